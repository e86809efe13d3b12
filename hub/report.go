package hub

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Report is a segnalazione or reclamo filed at a totem or a desk. It
// reaches the CzRM as an Open311 service request; until the CzRM gives its
// own id, the citizen's receipt carries our pending protocol number.
type Report struct {
	Protocol    string    `json:"protocol"`
	Kind        string    `json:"kind"` // segnalazione or reclamo
	Topic       string    `json:"topic"`
	Description string    `json:"description"`
	Location    string    `json:"location,omitempty"`
	Channel     Channel   `json:"channel"`
	FiledAt     time.Time `json:"filed_at"`
	FiledBy     string    `json:"filed_by,omitempty"`
	// Status is pending until the CzRM acknowledges it (then "sent", with
	// ServiceRequestID as the citizen-facing protocol).
	Status           string `json:"status"`
	ServiceRequestID string `json:"service_request_id,omitempty"`
}

// ReportTopics are the topics a citizen can choose for a report.
var ReportTopics = []string{"strade", "illuminazione", "rifiuti", "verde", "acqua", "servizi", "personale", "altro"}

// ReportRequest files a report.
type ReportRequest struct {
	Kind, Topic, Description, Location string
	Channel                            Channel
	By                                 string
	// IdemKey makes a retried request (an answer lost to a crash or a
	// dropped connection) return the report first filed, not a second one.
	IdemKey string
}

func validText(field, s string, max int, required bool) error {
	if required && strings.TrimSpace(s) == "" {
		return FieldError("missing_field", field, "%s is required", field)
	}
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
		return FieldError("invalid_"+field, field, "%s must be valid text of at most %d characters", field, max)
	}
	for _, r := range s {
		if r < 0x20 && r != '\n' && r != '\t' {
			return FieldError("invalid_"+field, field, "%s contains control characters", field)
		}
	}
	return nil
}

// fileReport records a report with a pending protocol number and its
// CzRM outbox record, in one transaction.
func (e *Engine) fileReport(ctx context.Context, r ReportRequest) (filed, error) {
	v, err := e.do(ctx, r.By, func(tx *txn) (any, error) {
		idemKey := ""
		if r.IdemKey != "" {
			idemKey = "report\x00" + r.By + "\x00" + r.IdemKey
			if rec, ok := tx.e.idem[idemKey]; ok && rec.Report != "" && tx.now.Sub(rec.At) < tx.e.cfg.IdemTTL {
				if rep := tx.filed(rec.Report); rep != nil {
					return filed{rep: rep}, nil
				}
			}
		}
		if r.Kind != "segnalazione" && r.Kind != "reclamo" {
			return nil, FieldError("invalid_kind", "kind", "kind must be segnalazione or reclamo")
		}
		known := false
		for _, t := range ReportTopics {
			known = known || t == r.Topic
		}
		if !known {
			return nil, FieldError("invalid_topic", "topic", "topic must be one of %s", strings.Join(ReportTopics, ", "))
		}
		if err := validText("description", r.Description, 1000, true); err != nil {
			return nil, err
		}
		if err := validText("location", r.Location, 200, false); err != nil {
			return nil, err
		}
		if r.Channel == "" {
			r.Channel = ChannelTotem
		}
		if !r.Channel.Valid() {
			return nil, FieldError("invalid_channel", "channel", "unknown channel %q", r.Channel)
		}
		year := tx.now.Format("2006")
		key := "reports/" + year
		n := tx.e.numbers[key] + 1
		tx.e.numbers[key] = n
		tx.batch.Numbers[key] = n
		rep := &Report{Protocol: fmt.Sprintf("SP-%s-%06d", year, n), Kind: r.Kind, Topic: r.Topic, Description: strings.TrimSpace(r.Description),
			Location: strings.TrimSpace(r.Location), Channel: r.Channel, FiledAt: tx.now, FiledBy: r.By, Status: "pending"}
		tx.batch.Reports = append(tx.batch.Reports, rep)
		ev := tx.emit(EventReportFiled, EventData{Channel: string(r.Channel), Reason: rep.Kind})
		tx.batch.Outbox = append(tx.batch.Outbox, OutboxRecord{EventSeq: ev.Seq, Type: ev.Type, At: ev.At, Report: rep})
		if idemKey != "" {
			rec := IdemRecord{Key: idemKey, Report: rep.Protocol, At: tx.now}
			tx.e.idem[idemKey] = rec
			tx.batch.Idem = append(tx.batch.Idem, rec)
		}
		c := *rep
		return filed{rep: &c, created: true}, nil
	})
	if err != nil {
		return filed{}, err
	}
	return v.(filed), nil
}

// FileReport files a segnalazione or reclamo.
func (e *Engine) FileReport(ctx context.Context, r ReportRequest) (*Report, error) {
	f, err := e.fileReport(ctx, r)
	return f.rep, err
}

// FileReportOnce is FileReport that also says whether this call filed the
// report (false: an earlier call with the same idempotency key did).
func (e *Engine) FileReportOnce(ctx context.Context, r ReportRequest) (*Report, bool, error) {
	f, err := e.fileReport(ctx, r)
	return f.rep, f.created, err
}

type filed struct {
	rep     *Report
	created bool
}

// filed finds a report by protocol: in the batch being committed (a retry
// grouped with the first call) or in the store.
func (tx *txn) filed(protocol string) *Report {
	for _, rep := range tx.batch.Reports {
		if rep.Protocol == protocol {
			c := *rep
			return &c
		}
	}
	if rep, err := tx.e.store.Report(protocol); err == nil {
		return rep
	}
	return nil
}

// Report reads a report by protocol number.
func (e *Engine) Report(protocol string) (*Report, error) { return e.store.Report(protocol) }

// ReportDelivered records that the CzRM accepted a report and gave it its
// own protocol (the Open311 service_request_id), which from now on is the
// number the citizen's case is known by.
func (e *Engine) ReportDelivered(ctx context.Context, protocol, serviceRequestID string) (*Report, error) {
	if serviceRequestID == "" || len(serviceRequestID) > 64 {
		return nil, FieldError("invalid_service_request_id", "service_request_id", "the CzRM id is 1-64 characters")
	}
	v, err := e.do(ctx, "crmsync", func(tx *txn) (any, error) {
		r, err := tx.e.store.Report(protocol)
		if err != nil {
			return nil, err
		}
		if r.Status == "sent" && r.ServiceRequestID == serviceRequestID {
			return r, nil
		}
		r.Status, r.ServiceRequestID = "sent", serviceRequestID
		tx.batch.Reports = append(tx.batch.Reports, r)
		tx.emit(EventReportDelivered, EventData{Reason: r.Kind})
		c := *r
		return &c, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*Report), nil
}
