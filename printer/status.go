package printer

import "fmt"

// State is what the agent reports about its printer to the hub.
type State int

const (
	StateOK State = iota
	StatePaperNearEnd
	StatePaperOut
	StateCoverOpen
	StateOffline
	StateError
)

var stateNames = [...]string{"ok", "paper_near_end", "paper_out", "cover_open", "offline", "error"}

// String returns the state's stable name, as the hub and the logs show it.
func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// CanPrint reports whether a ticket can be printed in this state: only with
// paper (or nearly none left) and the printer online.
func (s State) CanPrint() bool { return s == StateOK || s == StatePaperNearEnd }

// The four real-time status requests, DLE EOT n. The printer answers each
// with one byte, even offline or with a full buffer.
const (
	StatusPrinter = 1 // online/offline
	StatusOffline = 2 // cause of being offline: cover, paper, error
	StatusError   = 3 // cause of the error
	StatusPaper   = 4 // roll paper sensors
)

// StatusRequest returns the bytes of DLE EOT n.
func StatusRequest(n byte) []byte { return []byte{dle, eot, n} }

// Bits of the DLE EOT replies (Epson TM-T88III/IV, Bixolon SRP-350, HPRT).
const (
	printerOffline   = 1 << 3 // n = 1
	offlineCoverOpen = 1 << 2 // n = 2
	offlinePaperEnd  = 1 << 5 // n = 2: stopped at paper end
	offlineError     = 1 << 6 // n = 2
	errorCutter      = 1 << 3 // n = 3
	errorUnrecover   = 1 << 5 // n = 3
	errorAutoRecover = 1 << 6 // n = 3
	paperNearEnd     = 0x0C   // n = 4, bits 2 and 3
	paperEnd         = 0x60   // n = 4, bits 5 and 6
)

// Replies holds the answers to DLE EOT 1 to 4; a zero means "not asked or
// not answered", which no real reply can be (bits 1 and 4 are always set).
type Replies struct {
	Printer, Offline, Error, Paper byte
}

// State maps the replies to one state, the most specific first: a cover
// open or an empty roll also makes the printer offline, and the citizen's
// helper needs to know which.
func (r Replies) State() State {
	switch {
	case r.Offline != 0 && r.Offline&offlineCoverOpen != 0:
		return StateCoverOpen
	case r.Paper != 0 && r.Paper&paperEnd != 0,
		r.Offline != 0 && r.Offline&offlinePaperEnd != 0:
		return StatePaperOut
	case r.Offline != 0 && r.Offline&offlineError != 0,
		r.Error != 0 && r.Error&(errorCutter|errorUnrecover|errorAutoRecover) != 0:
		return StateError
	case r.Printer != 0 && r.Printer&printerOffline != 0:
		return StateOffline
	case r.Paper != 0 && r.Paper&paperNearEnd != 0:
		return StatePaperNearEnd
	}
	return StateOK
}

// needsErrorQuery reports whether DLE EOT 3 is worth asking: the printer is
// offline or in error for a reason the first replies do not explain.
func (r Replies) needsErrorQuery() bool {
	return r.Printer&printerOffline != 0 || r.Offline&offlineError != 0
}

// ReplyKind tells what a byte (or block) coming back from the printer is.
type ReplyKind int

const (
	// ReplyStatus is the one-byte answer to a DLE EOT: 0xx1xx10.
	ReplyStatus ReplyKind = iota + 1
	// ReplyASB is a four-byte Automatic Status Back block, sent unasked
	// when ASB is enabled: first byte 0xx1xx00, the other three 0xx0xxxx.
	ReplyASB
	// ReplyTransmission is a one-byte answer of GS r (0xx0xxxx).
	ReplyTransmission
	// ReplyXON and ReplyXOFF are software flow control (11 and 13).
	ReplyXON
	ReplyXOFF
)

// Reply is one sorted item of the printer's output. B[0] holds the byte of
// one-byte replies; an ASB block fills all four.
type Reply struct {
	Kind ReplyKind
	B    [4]byte
}

func (r Reply) String() string {
	switch r.Kind {
	case ReplyStatus:
		return fmt.Sprintf("status %02X", r.B[0])
	case ReplyASB:
		return fmt.Sprintf("asb % X", r.B[:])
	case ReplyTransmission:
		return fmt.Sprintf("transmission %02X", r.B[0])
	case ReplyXON:
		return "xon"
	case ReplyXOFF:
		return "xoff"
	}
	return fmt.Sprintf("Reply(%d)", int(r.Kind))
}

// The masks from Citizen's "identification of send status", which Epson's
// byte layouts follow.
const (
	xon  = 0x11
	xoff = 0x13

	statusMask, statusBits = 0x93, 0x12 // DLE EOT reply
	asbMask, asbFirst      = 0x93, 0x10 // ASB byte 1
	restMask, restBits     = 0x90, 0x00 // ASB bytes 2-4, GS r reply
)

// Sorter sorts the byte stream a printer sends back into replies. A printer
// may interleave status replies, unsolicited ASB blocks, XON/XOFF and line
// noise, and USB or network paths may deliver them in any chunking; the
// sorter keeps a partial ASB block between calls to Feed. Bytes that match
// no pattern are dropped. The zero value is ready to use.
type Sorter struct {
	asb  [4]byte
	nasb int // bytes of a partial ASB block held, 0 when none
}

// Feed sorts p and appends the complete replies it holds to out.
func (s *Sorter) Feed(out []Reply, p []byte) []Reply {
	for _, c := range p {
		out = s.feedByte(out, c)
	}
	return out
}

func (s *Sorter) feedByte(out []Reply, c byte) []Reply {
	switch {
	case c == xon:
		return append(out, Reply{Kind: ReplyXON, B: [4]byte{c}})
	case c == xoff:
		// XOFF may arrive in the middle of an ASB block: it does not break it.
		return append(out, Reply{Kind: ReplyXOFF, B: [4]byte{c}})
	}
	if s.nasb > 0 {
		if c&restMask == restBits {
			s.asb[s.nasb] = c
			s.nasb++
			if s.nasb == 4 {
				s.nasb = 0
				return append(out, Reply{Kind: ReplyASB, B: s.asb})
			}
			return out
		}
		// Not a continuation: the block was noise. Sort c afresh.
		s.nasb = 0
	}
	switch {
	case c&statusMask == statusBits:
		return append(out, Reply{Kind: ReplyStatus, B: [4]byte{c}})
	case c&asbMask == asbFirst:
		s.asb = [4]byte{c}
		s.nasb = 1
		return out
	case c&restMask == restBits:
		return append(out, Reply{Kind: ReplyTransmission, B: [4]byte{c}})
	}
	return out
}

// ParseStatus sorts one complete buffer of printer output. A trailing
// partial ASB block is dropped; use a Sorter for a stream.
func ParseStatus(p []byte) []Reply {
	var s Sorter
	return s.Feed(nil, p)
}
