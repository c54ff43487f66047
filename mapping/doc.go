// Package mapping turns HL7 v2 messages into radbridge's order model (package order)
// and results back into HL7 v2: [FromV2] maps ORM^O01, OMI^O23 and OML^O21 orders,
// [ResultsFromV2] maps ORU^R01 reports, [BuildORU] writes a result as an ORU^R01. The
// FHIR R4 side of the order model is package fhirmap (mapping/fhirmap). The functions
// are pure: no I/O, no logging, no clock. The readers never fail: what cannot be
// mapped is left empty and reported as an [hl7.Issue] with an HL7 table 0357
// code (101 required field missing, 102 data type, 103 table value, 100 segment
// sequence, 200 unsupported type, 203 version, 205 duplicate key) and a location with
// the segment occurrence, ready for an ERR segment.
//
// The field choices follow the HL7 Version 2 to FHIR Implementation Guide concept maps
// (https://build.fhir.org/ig/HL7/v2-to-fhir/): ORC and OBR to ServiceRequest, PID to
// Patient, PV1 to Encounter, IN1 to Coverage, DG1 to Condition (reasonReference), XCN
// to Practitioner, OBR/OBX to DiagnosticReport and Observation, and the
// Administrative Sex, Patient Class and Order Control Code vocabulary maps.
//
// # Orders (FromV2)
//
// An ORC starts an order group; the order detail segment after it (OBR, or RXO, ODS,
// ODT, RQD, RQ1 in ORM) belongs to it, as do the TQ1, DG1 and IPC segments up to the
// next ORC. An order detail without an ORC of its own (ORC OBR OBR) is an order of its
// own under the same ORC; one before any ORC is an order with no control code (an
// issue). PID, PV1 and DG1 before the first ORC, and every IN1, are shared by every
// order; DG1 inside a group belongs to that order. A PID after the first group (OML
// prior results) ends the mapping, with a warning. Each order owns its slices; the
// strings of all of a message's orders share one copy of the message text.
//
//	Source          Kind v2; SendingApp MSH-3.1; SendingFacility MSH-4.1, else MSH-4.2,
//	                else MSH-3.1 (orders are keyed by facility; a sender that leaves
//	                MSH-4 empty is known by its application); ReceivingApp MSH-5.1;
//	                ReceivingFacility MSH-6.1; Version MSH-12.1
//	Placer          ORC-2.1, else OBR-2.1 (OBR first for an order sharing its ORC)
//	Filler          ORC-3.1, else OBR-3.1 (likewise); also Control.Filler
//	PlacerGroup     ORC-4.1
//	Accession       IPC-1.1 (OMI), else OBR-18.1
//	ControlCode     ORC-1, upper-cased; Control.OrderStatus is ORC-5
//	Patient         PID-3, every repetition: CX.1 value, CX.4 namespace (else universal
//	                ID) system, CX.5 type; PID-2 too for v2.3.1 and earlier. Name: the
//	                first PID-5 repetition with a family or given name. BirthDate PID-7
//	                to its precision (YYYY, YYYY-MM, YYYY-MM-DD, the date as written).
//	                Sex PID-8: F female, M male, O other, U unknown, A (ambiguous)
//	                other, N (not applicable) unknown; anything else is not mapped
//	EncounterClass  PV1-2 via order.ParseEncounterClass (B obstetrics names no setting:
//	                unknown); unrecognised: unknown (issue)
//	Setting         PointOfCare PV1-3.1, Facility PV1-3.4.1, FacilityID PV1-3.4.2,
//	                AdmissionType PV1-4, HospitalService PV1-10, PatientType PV1-18,
//	                Start PV1-44, End PV1-45, as sent (package rules reads them)
//	Performer       MSH-6 when it is an HD name^NPI^NPI (universal ID type NPI), else
//	                PV1-3.4 in the same form (subcomponents); else empty
//	Provider        ORC-12 (first repetition), else OBR-16. NPI when XCN.13 is NPI or
//	                XCN.9 is NPI by namespace or by OID 2.16.840.1.113883.4.6;
//	                otherwise ID XCN.1 with IDSystem XCN.9. Family XCN.2.1, Given XCN.3,
//	                Prefix XCN.6, Suffix XCN.5 and degree XCN.7
//	Procedure       OBR-4 (the alternate triplet when the primary is empty), else OBR-44;
//	                CPT is the code of the first triplet coded in CPT (C4, C5, CPT, CPT4,
//	                CPT-4: order.Procedure.IsCPT) among OBR-4 primary, OBR-4 alternate,
//	                OBR-44. Non-OBR details: RXO-1, ODS-3, ODT-1, RQD-2, RQ1-2
//	Modality        IPC-5 (DICOM; PT is PET, CR/DX/DR are XR, RF is FL), else OBR-24
//	                normalised (CT, MR/NMR, US/RUS/OUS..., NM/NMS, RX/CR/DX as XR, FL,
//	                MG); sections that name no modality (RAD, LAB...) leave it empty
//	BodySite        OBR-15.4 (before v2.7) or OBR-46, text preferred to code
//	Diagnoses       shared DG1, the group's DG1, then OBR-31 repetitions coded in ICD-10,
//	                deduplicated. DG1: DG1-3 code/text/system, with DG1-2 coding method
//	                as the system and DG1-4 description as the text when DG1-3 lacks them
//	Reason          OBR-31 repetitions, the text of each (its code when it has none),
//	                joined by "; "
//	Priority        the first of TQ1-9, ORC-7.6, OBR-27.6, OBR-5 that
//	                order.ParsePriority reads; others valued give issues
//	Requested       the first valid of TQ1-7, ORC-7.4, OBR-27.4, OBR-6; malformed
//	                ones give issues
//	Authored        ORC-9, else MSH-7; read with hl7.ParseTime, UTC when no offset
//	Signature       Signer is the ordering provider ("Family, Given", or the ID when
//	                unnamed), SignerNPI its NPI, Time ORC-9 (never MSH-7), Mode ORC-30.1
//	                (v2.6 enterer authorization mode, read in any version when valued);
//	                Present is Signer and Time both valued: an order signed by no one,
//	                or at no stated time, carries no signature
//	Coverage        every IN1: Payer IN1-3.1, PayerName IN1-4.1, Plan IN1-2.1, PlanType
//	                IN1-15, Group IN1-8, MemberID IN1-36, else IN1-49.1; Start IN1-12
//	                and End IN1-13 as YYYY-MM-DD (less than a day's precision: issue)
//	Authorization   Number: the first IN1-14.1 that is not a placeholder (NA, NAR...)
//
// Status is left zero: the engine applies V2Order.Control to run the lifecycle.
//
// # Results (ResultsFromV2)
//
// Each OBR starts a result with the ORC just before it and the OBX segments up to the
// next ORC or OBR; PatientIDs come from the PID before it.
//
//	Placer, Filler  OBR-2.1, OBR-3.1, each else its ORC field
//	Accession       OBR-18.1
//	Result.ID       the filler number, else the accession, else placer "#" OBR
//	                occurrence (stable while the sender keeps its OBR order)
//	Status          OBR-25 via order.ParseResultStatus; missing or not a result: issue
//	Text            TX, FT and ST OBX-5 values in OBX order joined by newlines,
//	                repetitions by newlines, formatting commands rendered (see below),
//	                leading and trailing blank lines trimmed; the DICOM Study Instance
//	                UID (113014^DCM) is left out
//	Observations    one per OBX: ID OBX-3.1 "." OBX-4; Code, Text, System OBX-3;
//	                ValueType OBX-2; Value OBX-5 as text; Units OBX-6.1; Status OBX-11
//	Presented       ED OBX-5 (source^type^subtype^encoding^data), Base64, Hex or A
//	                decoded, content type from the subtype (PDF application/pdf...);
//	                data that does not decode stays in the observation's Value (issue)
//	Interpreter     OBR-32.1 (CNN as subcomponents; NPI when its authority is NPI)
//	Issued          OBR-22, else the first OBX-14, else MSH-7
//
// FT, TX and ST text: \.br\ and \.ce\ are line breaks, \.sp n\ n line breaks, \.sk n\
// n spaces; \H\, \N\, \.fi\, \.nf\, \.in\ and \.ti\ are dropped.
//
// # Results back (BuildORU)
//
// BuildORU writes a result of an order to the order's sender as an ORU^R01, whichever
// dialect the order and the result came in; its comment holds the field table. Coding
// systems are written with their v2 names ([V2CodeSystem]), and OIDs as ISO universal
// IDs.
//
// # Shared with package fhirmap
//
// The FHIR side follows the same concept maps and imports what both dialects must agree
// on from here: the coding system map between v2 names (table 0396) and FHIR URIs
// ([CodeSystemURI], [V2CodeSystem], [IsOID], [IsURI]), the DICOM modality codes
// ([DICOMModality]), the form of a signer's name ([SignerName]), when two diagnoses are
// one ([AddDiagnosis]), and the order an ORU^R01 describes ([ResultOrdersFromV2]), which
// fhirmap.V2ToBundle writes as a ServiceRequest.
//
// # Caveats
//
//   - Grouping is by segment order, not by a message structure definition: an OML prior
//     result group is not mapped, and a sender that repeats ORC-level segments in odd
//     places gets them attached to the nearest order.
//   - Formatted text that holds escape sequences and is not valid UTF-8 after decoding is
//     read as ISO 8859-1, whatever MSH-18 declares.
//   - Nothing here checks codes (CPT, ICD-10-CM, NPI): package rules does.
package mapping
