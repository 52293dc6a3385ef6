package app

import (
	"context"

	"tongxin/internal/checkpoint"
	"tongxin/internal/zonerule"
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

// gateIndex gives estate gates the zone module's index of the zones and
// exit permits in force (built after the checkpoint module).
type gateIndex struct{ sys *System }

func (g gateIndex) GateIndex(ctx context.Context) (*zonerule.Index, error) {
	return g.sys.Zones.GateIndex(ctx)
}
