// Package fhirmap maps between FHIR R4 (4.0.1, https://hl7.org/fhir/R4/) resources and
// radbridge's order model (package order). It follows the HL7 Version 2 to FHIR
// Implementation Guide concept maps (https://build.fhir.org/ig/HL7/v2-to-fhir/), which
// package mapping follows for HL7 v2, read both ways, so that an order means the same
// whichever dialect it came in: ServiceRequest for ORC and OBR, Patient for PID,
// Encounter for PV1, Coverage for IN1, Condition for DG1, Practitioner for XCN,
// Provenance for the signature (ORC-12 with ORC-9), DiagnosticReport and Observation for
// OBR and OBX, and the Administrative Sex, Patient Class, Order Control Code and coding
// system maps. Resources are the samply fhir-models structs, in their JSON form
// (https://hl7.org/fhir/R4/json.html).
//
//   - FromFHIR and FromFHIRServiceRequest read a ServiceRequest (alone, with contained
//     resources, or in a Bundle) as an order, FromFHIRServiceRequestJSON one whose type
//     the caller knows, in one decode; FromFHIRDiagnosticReport reads a result.
//   - ToServiceRequest and ServiceRequestJSON write an order as a ServiceRequest (the
//     latter with its patient, practitioner, encounter, coverage, conditions and
//     signature contained, so that nothing the order holds is lost); ToTask writes its
//     fulfillment status; ToDiagnosticReport writes one of its results.
//   - V2ToBundle converts an ORM^O01, OMI^O23, OML^O21 or ORU^R01 to a transaction
//     Bundle (radbridge convert), reading the message with package mapping.
//
// The functions are pure: no I/O, no logging, no clock; they are safe for concurrent
// use. The readers never fail: what cannot be read is left empty and reported as a
// [FHIRIssue], shaped as an OperationOutcome issue.
//
// Each function's comment holds its field table. Code systems: CPT
// http://www.ama-assn.org/go/cpt (v2 C4/CPT), ICD-10-CM http://hl7.org/fhir/sid/icd-10-cm
// (v2 I10/I10C), LOINC http://loinc.org, NPI http://hl7.org/fhir/sid/us-npi, v2 tables
// http://terminology.hl7.org/CodeSystem/v2-NNNN (mapping.CodeSystemURI); a local code
// keeps its code and display and gets no invented system.
//
// # Control characters
//
// HL7 v2 text may hold any byte, NUL included, and the order model keeps it as it came.
// FHIR strings should hold no character below U+0020 other than tab, CR and LF (R4
// datatypes, string: "Strings SHOULD not contain Unicode character points below 32,
// except for u0009 (horizontal tab), u0010 (carriage return) and u0013 (line feed)",
// https://hl7.org/fhir/R4/datatypes.html#string), although encoding/json would write
// them as valid JSON (\u0000). What this package renders from an order
// (ServiceRequestJSON, TaskJSON, DiagnosticReportJSON, V2ToBundle) has each of them
// replaced by U+FFFD REPLACEMENT CHARACTER, so that a receiver sees that a character was
// there and none reaches it; a FHIR client cannot send them (package fhir's gate
// refuses them).
//
// # Caveats
//
//   - The readers do not validate resources against the FHIR specification: package
//     fhir's validation gate does that before them.
//   - Nothing here checks codes (CPT, ICD-10-CM, NPI): package rules does.
package fhirmap
