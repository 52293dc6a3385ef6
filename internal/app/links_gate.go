package app

import (
	"context"

	"tongxin/internal/checkpoint"
)

// Estate gates (checkpoint) read the household register's estates
// (masstest) and the zones in force (zone).

// estateRegister gives the checkpoint module a community's estates from
// the testing module, built after it.
type estateRegister struct{ sys *System }

func (r estateRegister) Estates(ctx context.Context, community string) ([]checkpoint.Estate, error) {
	list, err := r.sys.Testing.Estates(ctx, community)
	if err != nil {
		return nil, err
	}
	out := make([]checkpoint.Estate, len(list))
	for i, e := range list {
		out[i].Name = e.Name
		for _, b := range e.Buildings {
			out[i].Buildings = append(out[i].Buildings, b.Key)
		}
	}
	return out, nil
}

// gateZones is what estate gates decide resident codes by: the zone
// module's GateIndex once it is wired here (internal/zone); until then
// nil, and an estate gate refuses resident codes (zones_unavailable)
// rather than let everyone out. Tests set it (export_gate_test.go).
var gateZones checkpoint.Zones
