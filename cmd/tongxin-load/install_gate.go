package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// The gate-scan scenario: the demo's estate gate (大园小区东门, in 大园社区)
// scanned by its officer, resident codes of 大园社区's register in turn,
// each decided by the zones in force (two-code check, 两码查验).
const (
	gateUser      = "menggang"     // the officer of the demo's estate gate
	gateCommunity = "430203001001" // 大园社区
	gateCodes     = 64             // resident codes scanned in turn
)

// prepareGate finds the estate gate and collects resident codes of its
// community, scanning each once: an estate gate that cannot decide them
// (the zones unavailable) stops the suite.
func (in *install) prepareGate(ctx context.Context, base string) error {
	c := &apiClient{base: base, http: &http.Client{Timeout: 30 * time.Second}}
	var gates struct{ Items []struct{ ID int64 } }
	if err := c.getJSON(ctx, "/api/v1/checkpoints?kind=estate_gate", in.gateToken, &gates); err != nil || len(gates.Items) == 0 {
		return fmt.Errorf("the estate gate of %s: %v", gateUser, err)
	}
	in.gate = fmt.Sprint(gates.Items[0].ID)
	var hhs struct{ Items []struct{ ID int64 } }
	if err := c.getJSON(ctx, "/api/v1/households?area="+gateCommunity+"&per_page=100", in.hqToken, &hhs); err != nil {
		return fmt.Errorf("the households of %s: %w", gateCommunity, err)
	}
	for _, h := range hhs.Items {
		var codes struct{ Residents []struct{ Token string } }
		if err := c.getJSON(ctx, fmt.Sprintf("/api/v1/households/%d/codes", h.ID), in.hqToken, &codes); err != nil {
			return fmt.Errorf("the codes of household %d: %w", h.ID, err)
		}
		for _, r := range codes.Residents {
			if len(in.gateCodes) < gateCodes {
				in.gateCodes = append(in.gateCodes, r.Token)
			}
		}
	}
	if len(in.gateCodes) == 0 {
		return errors.New("no resident code in " + gateCommunity)
	}
	stamp := time.Now().Unix()
	for i, tok := range in.gateCodes {
		body, _ := json.Marshal(map[string]string{"token": tok, "client_id": fmt.Sprintf("setup-gate-%d-%d", stamp, i)})
		got, _, err := c.do(ctx, "POST", "/api/v1/checkpoints/"+in.gate+"/scans", in.gateToken, body)
		if err != nil {
			return fmt.Errorf("a first scan at the estate gate (is the zone module wired?): %w", err)
		}
		if !strings.Contains(string(got), `"shown":"resident"`) {
			return fmt.Errorf("the estate gate did not read a resident code: %.200s", got)
		}
	}
	return nil
}
