package pass

import (
	"context"
	"fmt"
	"slices"

	"tongxin/internal/auth"
	"tongxin/internal/importer"
)

// TemplateSpec is BatchSpec with an example row that imports as it
// stands today, for p: its name is marked 示例 (uploads skip it, so it may
// stay above the contact's own rows), its ID number carries a valid GB
// 11643 check character (made up here, no real person's), its days run
// from today for 30 days, and its area is written by name — the
// enterprise's own street (or district), when p is the contact of one.
func (s *Service) TemplateSpec(ctx context.Context, p *auth.Principal) importer.Spec {
	today := startOfDay(s.clock.Now())
	region, areaName := "430203", "芦淞区建设街道"
	if refs := p.Refs(auth.EnterpriseContact); len(refs) > 0 {
		if sub, err := s.subjectOf(ctx, refs[0]); err == nil {
			if ix, err := s.indexReach(ctx, sub.Reach); err == nil {
				if i, ok := ix.byCode[sub.Area.Code]; ok {
					areaName = ix.list[i].FullName
				}
			}
			if len(sub.Area.Code) >= 6 {
				region = sub.Area.Code[:6]
			}
		}
	}
	examples := map[string]string{
		"name":        "（" + exampleMarker + "）张三",
		"id_number":   ExampleID(region, "19900101", 123),
		"phone":       "13800000000",
		"plate":       "",
		"areas":       areaName,
		"checkpoints": "",
		"valid_from":  today.Format(DateLayout),
		"valid_to":    today.AddDate(0, 0, 29).Format(DateLayout),
	}
	spec := BatchSpec
	spec.Columns = slices.Clone(BatchSpec.Columns)
	for i, c := range spec.Columns {
		if v, ok := examples[c.Key]; ok {
			spec.Columns[i].Example = v
		}
	}
	return spec
}

// ExampleID builds an 18-character resident ID number (GB 11643) from a
// six-digit region, a birth date (YYYYMMDD) and a sequence number, with
// its ISO 7064 MOD 11-2 check character: for examples and tests, never a
// number read from anyone.
func ExampleID(region, birth string, seq int) string {
	base := fmt.Sprintf("%s%s%03d", region, birth, seq%1000)
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		sum += int(base[i]-'0') * w
	}
	return base + string("10X98765432"[sum%11])
}
