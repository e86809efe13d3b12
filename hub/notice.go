package hub

import (
	"context"
	"strings"
)

// SetNotice sets the information line of the waiting-room screens, in
// Italian and English (empty clears it). It is public: no personal data.
func (e *Engine) SetNotice(ctx context.Context, n Text, by string) error {
	if err := validText("it", n.IT, 200, false); err != nil {
		return err
	}
	if err := validText("en", n.EN, 200, false); err != nil {
		return err
	}
	if strings.ContainsAny(n.IT+n.EN, "\n\t") {
		return FieldError("invalid_it", "it", "the notice is one line: no line breaks or tabs")
	}
	_, err := e.do(ctx, by, func(tx *txn) (any, error) {
		tx.e.notice = n
		tx.batch.Notice = &n
		tx.emit(EventNoticeChanged, EventData{Notice: &n, Clerk: by})
		return nil, nil
	})
	return err
}

// Notice is the current information line.
func (e *Engine) Notice() Text {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.notice
}
