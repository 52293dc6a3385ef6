package app

import (
	"testing"

	"tongxin/internal/checkpoint"
)

// SetGateZones makes estate gates of systems wired from now on decide by
// z, until the test ends (until the zone module is wired, see gateZones).
// Tests that call it must not run in parallel with others that wire a
// system.
func SetGateZones(t *testing.T, z checkpoint.Zones) {
	old := gateZones
	gateZones = z
	t.Cleanup(func() { gateZones = old })
}
