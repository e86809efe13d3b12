package hub

// WithCatalogue returns the site as a hub started on a store holding c
// runs it: the site file's site with the admin catalogue laid over it.
// Tools that read a store without starting an engine (the simulator's
// replay) need the same site the engine had.
func (s *Site) WithCatalogue(c *Catalogue) *Site { return s.withCatalogue(c) }
