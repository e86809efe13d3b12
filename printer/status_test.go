package printer

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
)

func TestRepliesState(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    Replies
		want State
	}{
		{"idle", Replies{0x12, 0x12, 0, 0x12}, StateOK},
		{"idle with drawer pin", Replies{0x16, 0x12, 0, 0x12}, StateOK},
		{"paper near end", Replies{0x12, 0x12, 0, 0x1E}, StatePaperNearEnd},
		{"paper near end, bits only", Replies{0x12, 0x12, 0, 0x0C | 0x12}, StatePaperNearEnd},
		{"paper out", Replies{0x1A, 0x32, 0, 0x72}, StatePaperOut},
		{"paper out, paper byte only", Replies{0x12, 0x12, 0, 0x72}, StatePaperOut},
		{"paper out and near end", Replies{0x1A, 0x32, 0, 0x7E}, StatePaperOut},
		{"paper end stop", Replies{0x1A, 0x32, 0, 0}, StatePaperOut},
		{"cover open", Replies{0x1A, 0x16, 0, 0x12}, StateCoverOpen},
		{"cover open beats paper out", Replies{0x1A, 0x36, 0, 0x72}, StateCoverOpen},
		{"offline", Replies{0x1A, 0x12, 0x12, 0x12}, StateOffline},
		{"error bit", Replies{0x1A, 0x52, 0x12, 0x12}, StateError},
		{"autocutter error", Replies{0x1A, 0x52, 0x1A, 0x12}, StateError},
		{"unrecoverable", Replies{0x1A, 0x12, 0x32, 0x12}, StateError},
		{"nothing asked", Replies{}, StateOK},
	} {
		if got := tc.r.State(); got != tc.want {
			t.Errorf("%s: %+v → %s, want %s", tc.name, tc.r, got, tc.want)
		}
	}
}

func TestStateString(t *testing.T) {
	want := []string{"ok", "paper_near_end", "paper_out", "cover_open", "offline", "error"}
	for i, w := range want {
		if got := State(i).String(); got != w {
			t.Errorf("State(%d) = %q, want %q", i, got, w)
		}
	}
	if got := State(42).String(); got != "State(42)" {
		t.Errorf("State(42) = %q", got)
	}
	if !StateOK.CanPrint() || !StatePaperNearEnd.CanPrint() || StatePaperOut.CanPrint() || StateOffline.CanPrint() {
		t.Error("CanPrint")
	}
}

func TestStatusRequest(t *testing.T) {
	for n := byte(1); n <= 4; n++ {
		if got := StatusRequest(n); !slices.Equal(got, []byte{0x10, 0x04, n}) {
			t.Errorf("StatusRequest(%d) = % X", n, got)
		}
	}
}

func TestParseStatus(t *testing.T) {
	st := func(b byte) Reply { return Reply{Kind: ReplyStatus, B: [4]byte{b}} }
	for _, tc := range []struct {
		name string
		in   []byte
		want []Reply
	}{
		{"one reply", []byte{0x12}, []Reply{st(0x12)}},
		{"replies", []byte{0x12, 0x1E, 0x72, 0x16}, []Reply{st(0x12), st(0x1E), st(0x72), st(0x16)}},
		{"garbage around", []byte{0xFF, 0x80, 0x12, 0xC3, 0x93}, []Reply{st(0x12)}},
		{"asb", []byte{0x18, 0x00, 0x0C, 0x00}, []Reply{{Kind: ReplyASB, B: [4]byte{0x18, 0x00, 0x0C, 0x00}}}},
		{"asb with xoff inside", []byte{0x30, 0x00, 0x13, 0x03, 0x00}, []Reply{
			{Kind: ReplyXOFF, B: [4]byte{0x13}},
			{Kind: ReplyASB, B: [4]byte{0x30, 0x00, 0x03, 0x00}},
		}},
		{"asb broken by a status reply", []byte{0x10, 0x00, 0x12, 0x00}, []Reply{
			st(0x12), {Kind: ReplyTransmission, B: [4]byte{0x00}},
		}},
		{"asb broken by garbage", []byte{0x10, 0x00, 0xFF, 0x1E}, []Reply{st(0x1E)}},
		{"partial asb dropped", []byte{0x12, 0x10, 0x00}, []Reply{st(0x12)}},
		{"xon xoff", []byte{0x13, 0x11}, []Reply{{Kind: ReplyXOFF, B: [4]byte{0x13}}, {Kind: ReplyXON, B: [4]byte{0x11}}}},
		{"gs r", []byte{0x03}, []Reply{{Kind: ReplyTransmission, B: [4]byte{0x03}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ParseStatus(tc.in)
			if !slices.Equal(got, tc.want) {
				t.Errorf("ParseStatus(% X) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestSorterStreams(t *testing.T) {
	in := []byte{0xFF, 0x18, 0x00, 0x13, 0x0C, 0x00, 0x1E, 0x11, 0x72}
	want := ParseStatus(in)
	for split := 0; split <= len(in); split++ {
		var s Sorter
		got := s.Feed(s.Feed(nil, in[:split]), in[split:])
		if !slices.Equal(got, want) {
			t.Errorf("split at %d: %v, want %v", split, got, want)
		}
	}
}

// checkReplies holds what must be true of any sorting: each reply matches
// its mask, the one-byte replies appear in the input in order, each ASB
// block's bytes do too (XON/XOFF may sit inside a block), and no input
// byte is used twice.
func checkReplies(in []byte, got []Reply) error {
	subsequence := func(seq []byte) bool {
		j := 0
		for _, b := range in {
			if j < len(seq) && b == seq[j] {
				j++
			}
		}
		return j == len(seq)
	}
	var single []byte
	used := map[byte]int{}
	for _, r := range got {
		n := 1
		switch r.Kind {
		case ReplyStatus:
			if r.B[0]&0x93 != 0x12 {
				return fmt.Errorf("status %02X does not match 0xx1xx10", r.B[0])
			}
		case ReplyASB:
			if r.B[0]&0x93 != 0x10 {
				return fmt.Errorf("asb first byte %02X does not match 0xx1xx00", r.B[0])
			}
			for _, b := range r.B[1:] {
				if b&0x90 != 0 {
					return fmt.Errorf("asb byte %02X does not match 0xx0xxxx", b)
				}
			}
			if !subsequence(r.B[:]) {
				return fmt.Errorf("%v is not made of input bytes in order", r)
			}
			n = 4
		case ReplyTransmission:
			if r.B[0]&0x90 != 0 {
				return fmt.Errorf("transmission %02X does not match 0xx0xxxx", r.B[0])
			}
		case ReplyXON, ReplyXOFF:
			if want := map[ReplyKind]byte{ReplyXON: 0x11, ReplyXOFF: 0x13}[r.Kind]; r.B[0] != want {
				return fmt.Errorf("%v is %02X", r.Kind, r.B[0])
			}
		default:
			return fmt.Errorf("unknown kind %d", r.Kind)
		}
		if n == 1 {
			single = append(single, r.B[0])
		}
		for _, b := range r.B[:n] {
			used[b]++
		}
	}
	if !subsequence(single) {
		return fmt.Errorf("one-byte replies % X are not input bytes in order", single)
	}
	for b, n := range used {
		if c := bytes.Count(in, []byte{b}); n > c {
			return fmt.Errorf("byte %02X used %d times, in the input %d", b, n, c)
		}
	}
	return nil
}

func FuzzParseStatus(f *testing.F) {
	f.Add([]byte{0x12}, byte(3), byte(0x1E))
	f.Add([]byte{0x18, 0x00, 0x13, 0x0C, 0x00, 0xFF, 0x72}, byte(2), byte(0x72))
	f.Add([]byte{0x10, 0x00, 0x00}, byte(1), byte(0x16))
	f.Add([]byte{0xFF, 0x80, 0x93, 0x11}, byte(0), byte(0x12))
	f.Fuzz(func(t *testing.T, in []byte, split, reply byte) {
		got := ParseStatus(in)
		if err := checkReplies(in, got); err != nil {
			t.Fatal(err)
		}
		// Any chunking of the stream sorts the same.
		k := int(split) % (len(in) + 1)
		var s Sorter
		if streamed := s.Feed(s.Feed(nil, in[:k]), in[k:]); !slices.Equal(streamed, got) {
			t.Fatalf("split at %d: %v, want %v", k, streamed, got)
		}
		// A valid DLE EOT reply after any garbage is read as itself, last.
		b := reply&^0x93 | 0x12
		withReply := append(append([]byte(nil), in...), b)
		got = ParseStatus(withReply)
		if len(got) == 0 || got[len(got)-1] != (Reply{Kind: ReplyStatus, B: [4]byte{b}}) {
			t.Fatalf("reply %02X after % X: sorted as %v", b, in, got)
		}
		if err := checkReplies(withReply, got); err != nil {
			t.Fatal(err)
		}
	})
}
