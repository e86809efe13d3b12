package sim

import "math"

// mix64 is the SplitMix64 finaliser (README §4.1).
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// Visitor kinds of the random streams.
const (
	KindWalkIn     = 1
	KindAppt       = 2
	KindRoomAppt   = 3
	KindRoomWalkIn = 4
	kindCount      = 5
)

// stream is one visitor's SplitMix64 stream.
type stream struct{ state uint64 }

func newStream(seed, day, kind, j uint64) *stream {
	return &stream{state: mix64(mix64(mix64(mix64(seed)^day)^kind) ^ j)}
}

func (s *stream) next() uint64 {
	s.state += 0x9E3779B97F4A7C15
	return mix64(s.state)
}

// U is uniform on [0, 1).
func (s *stream) U() float64 { return float64(s.next()>>11) * (1.0 / (1 << 53)) }

// Z is a standard normal (Box–Muller, cosine branch).
func (s *stream) Z() float64 {
	u1 := s.U()
	u2 := s.U()
	return math.Sqrt(-2*math.Log(1-u1)) * math.Cos(2*math.Pi*u2)
}

// lnDraw is LN(mean, cv, z).
func lnDraw(mean, cv, z float64) float64 {
	if cv == 0 {
		return mean
	}
	s2 := math.Log(1 + cv*cv)
	mu := math.Log(mean) - s2/2
	return math.Exp(mu + math.Sqrt(s2)*z)
}

// serviceDraw is S(mean, cv, dist): always two uniforms.
func (s *stream) serviceDraw(sp ServiceSpec) float64 {
	if sp.Dist == Exponential {
		u1 := s.U()
		_ = s.U()
		return -sp.Mean * math.Log(1-u1)
	}
	return lnDraw(sp.Mean, sp.CV, s.Z())
}

// categorical is Categorical(w, u).
func categorical(w []float64, u float64) int {
	total := 0.0
	for _, x := range w {
		total += x
	}
	x := u * total
	cum := 0.0
	for i, wi := range w {
		cum += wi
		if x < cum {
			return i
		}
	}
	for i := len(w) - 1; i >= 0; i-- {
		if w[i] > 0 {
			return i
		}
	}
	return len(w) - 1
}

func roundHalfUp(x float64) int { return int(math.Floor(x + 0.5)) }
