package fhirmap

import (
	"strings"
	"time"

	"github.com/radbridge/radbridge/order"
	"github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// The code systems of the setting: HL7 v2 tables 0007 (admission type), 0018 (patient
// type) and 0069 (hospital service) as HL7 Terminology registers them, and v3 RoleCode
// for ServiceRequest.locationCode (ServiceDeliveryLocationRoleType).
const (
	systemAdmissionType   = systemV2Prefix + "0007"
	systemPatientType     = systemV2Prefix + "0018"
	systemHospitalService = systemV2Prefix + "0069"
	systemRoleCode        = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
	systemNullFlavor      = "http://terminology.hl7.org/CodeSystem/v3-NullFlavor"
)

// The order's setting and timing in FHIR, written by encounterResource and
// serviceRequest and read back by FromFHIRServiceRequest, following the HL7 v2-to-FHIR
// IG's PV1 to Encounter map:
//
//	Setting.PointOfCare      Encounter.location[0].location: a Location's name, else
//	                         the reference's display (PV1-3.1)
//	Setting.Facility, ID     Encounter.serviceProvider: an Organization's name and first
//	                         identifier, else the reference's display and identifier
//	                         (PV1-3.4)
//	Setting.AdmissionType    Encounter.type coded in v2-0007 (PV1-4)
//	Setting.PatientType      Encounter.type coded in v2-0018 (PV1-18)
//	Setting.HospitalService  Encounter.serviceType coded in v2-0069 (PV1-10)
//	Setting.Start, End       Encounter.period (PV1-44, PV1-45)
//	Setting.LocationCode     ServiceRequest.locationCode: the first coding's code
//	                         (written in v3 RoleCode)
//	Requested                ServiceRequest.occurrenceDateTime, else occurrencePeriod.start,
//	                         else occurrenceTiming's first event or boundsPeriod.start
//	Performer                ServiceRequest.performer: the first Organization (or logical
//	                         reference) with an NPI identifier (us-npi), its name or display
//	Coverage.Start, End      Coverage.period, as dates
//
// An Encounter whose class is unknown but that carries a setting is written with the
// class UNK (v3 NullFlavor), which order.ParseEncounterClass reads as unknown:
// Encounter.class is required.

// setEncounterSetting writes the order's setting into enc.
func setEncounterSetting(enc *fhir.Encounter, s order.Setting) {
	if s.PointOfCare != "" {
		enc.Location = []fhir.EncounterLocation{{Location: fhir.Reference{Type: ptr("Location"), Display: ptr(s.PointOfCare)}}}
	}
	if s.Facility != "" || s.FacilityID != "" {
		r := &fhir.Reference{Type: ptr("Organization"), Display: ptr(s.Facility)}
		if s.FacilityID != "" {
			r.Identifier = &fhir.Identifier{Value: ptr(s.FacilityID)}
		}
		enc.ServiceProvider = r
	}
	for _, t := range [...]struct{ system, code string }{
		{systemAdmissionType, s.AdmissionType}, {systemPatientType, s.PatientType},
	} {
		if t.code != "" {
			enc.Type = append(enc.Type, fhir.CodeableConcept{Coding: []fhir.Coding{{System: ptr(t.system), Code: ptr(t.code)}}})
		}
	}
	if s.HospitalService != "" {
		enc.ServiceType = &fhir.CodeableConcept{Coding: []fhir.Coding{{System: ptr(systemHospitalService), Code: ptr(s.HospitalService)}}}
	}
	if !s.Start.IsZero() || !s.End.IsZero() {
		enc.Period = &fhir.Period{Start: ptr(fhirTime(s.Start)), End: ptr(fhirTime(s.End))}
	}
}

// readEncounterSetting reads the setting from an Encounter.
func (rd *srReader) readEncounterSetting(enc *fhir.Encounter) order.Setting {
	var s order.Setting
	if len(enc.Location) > 0 {
		ref := &enc.Location[0].Location
		if loc, ok := rd.rv.resolve(ref).(*fhir.Location); ok {
			s.PointOfCare = deref(loc.Name)
		}
		s.PointOfCare = firstOf(s.PointOfCare, deref(ref.Display))
	}
	if ref := enc.ServiceProvider; ref != nil {
		if org, ok := rd.rv.resolve(ref).(*fhir.Organization); ok {
			s.Facility = deref(org.Name)
			if len(org.Identifier) > 0 {
				s.FacilityID = deref(org.Identifier[0].Value)
			}
		}
		s.Facility = firstOf(s.Facility, deref(ref.Display))
		if ref.Identifier != nil {
			s.FacilityID = firstOf(s.FacilityID, deref(ref.Identifier.Value))
		}
	}
	for _, cc := range enc.Type {
		for _, c := range cc.Coding {
			switch deref(c.System) {
			case systemAdmissionType:
				s.AdmissionType = firstOf(s.AdmissionType, deref(c.Code))
			case systemPatientType:
				s.PatientType = firstOf(s.PatientType, deref(c.Code))
			}
		}
	}
	if enc.ServiceType != nil {
		for _, c := range enc.ServiceType.Coding {
			if deref(c.System) == systemHospitalService {
				s.HospitalService = firstOf(s.HospitalService, deref(c.Code))
			}
		}
	}
	if p := enc.Period; p != nil {
		s.Start = rd.time(deref(p.Start), "encounter", "Encounter.period.start")
		s.End = rd.time(deref(p.End), "encounter", "Encounter.period.end")
	}
	return s
}

// time reads a dateTime at path; a malformed one is reported against expr and ignored.
func (rd *srReader) time(s, expr, what string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, ok := parseFHIRTime(s)
	if !ok {
		rd.is.add(FHIRWarning, FHIRCodeValue, expr, what+" "+quote(s)+" is not a dateTime; ignored")
	}
	return t
}

// locationCodes writes Setting.LocationCode as ServiceRequest.locationCode.
func locationCodes(code string) []fhir.CodeableConcept {
	if code == "" {
		return nil
	}
	return []fhir.CodeableConcept{{Coding: []fhir.Coding{{System: ptr(systemRoleCode), Code: ptr(code)}}}}
}

// readLocationCode reads the first coded ServiceRequest.locationCode.
func readLocationCode(ccs []fhir.CodeableConcept) string {
	for _, cc := range ccs {
		for _, c := range cc.Coding {
			if code := deref(c.Code); code != "" {
				return code
			}
		}
	}
	return ""
}

// readRequested reads ServiceRequest.occurrence[x].
func (rd *srReader) readRequested(sr *fhir.ServiceRequest) time.Time {
	switch {
	case sr.OccurrenceDateTime != nil:
		return rd.time(deref(sr.OccurrenceDateTime), "occurrenceDateTime", "occurrenceDateTime")
	case sr.OccurrencePeriod != nil:
		return rd.time(deref(sr.OccurrencePeriod.Start), "occurrencePeriod", "occurrencePeriod.start")
	case sr.OccurrenceTiming != nil:
		tm := sr.OccurrenceTiming
		if len(tm.Event) > 0 {
			return rd.time(strings.TrimSpace(tm.Event[0]), "occurrenceTiming", "occurrenceTiming.event")
		}
		if tm.Repeat != nil && tm.Repeat.BoundsPeriod != nil {
			return rd.time(deref(tm.Repeat.BoundsPeriod.Start), "occurrenceTiming", "occurrenceTiming.repeat.boundsPeriod.start")
		}
	}
	return time.Time{}
}

// performerRefs writes the performing facility as a logical Organization reference.
func performerRefs(f order.Facility) []fhir.Reference {
	if f.NPI == "" {
		return nil
	}
	return []fhir.Reference{{Type: ptr("Organization"), Identifier: &fhir.Identifier{System: ptr(systemNPI), Value: ptr(f.NPI)},
		Display: ptr(f.Name)}}
}

// readPerformer reads the first performer that names an organization by NPI.
func (rd *srReader) readPerformer(refs []fhir.Reference) order.Facility {
	for i := range refs {
		ref := &refs[i]
		if org, ok := rd.rv.resolve(ref).(*fhir.Organization); ok {
			if npi := npiOf(org.Identifier); npi != "" {
				return order.Facility{Name: deref(org.Name), NPI: npi}
			}
			continue
		}
		if ref.Identifier != nil {
			if npi := npiOf([]fhir.Identifier{*ref.Identifier}); npi != "" {
				return order.Facility{Name: deref(ref.Display), NPI: npi}
			}
		}
	}
	return order.Facility{}
}

// npiOf is the value of the first identifier in the NPI system (or its OID).
func npiOf(ids []fhir.Identifier) string {
	for _, id := range ids {
		if sys := deref(id.System); sys == systemNPI || sys == "urn:oid:"+npiOID {
			if v := deref(id.Value); v != "" {
				return v
			}
		}
	}
	return ""
}

// coveragePeriod writes a coverage's dates as Coverage.period; nil when it has none.
func coveragePeriod(c order.Coverage) *fhir.Period {
	if c.Start == "" && c.End == "" {
		return nil
	}
	return &fhir.Period{Start: ptr(c.Start), End: ptr(c.End)}
}

// periodDate reads a Coverage.period bound as a date: the date part of a dateTime, in
// its own zone; "" for a value that is not a dateTime or is less precise than a day.
func (rd *srReader) periodDate(s, path string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if len(s) < len(time.DateOnly) {
		rd.is.add(FHIRWarning, FHIRCodeValue, path, path+" "+quote(s)+" is less precise than a day; ignored")
		return ""
	}
	if _, err := time.Parse(time.DateOnly, s[:len(time.DateOnly)]); err != nil {
		rd.is.add(FHIRWarning, FHIRCodeValue, path, path+" "+quote(s)+" is not a date; ignored")
		return ""
	}
	return s[:len(time.DateOnly)]
}
