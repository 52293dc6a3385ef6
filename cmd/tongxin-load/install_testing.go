package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"tongxin/internal/db"
)

// The mass-testing scenarios' register: generated residents in two
// communities of 建设街道 (430203001) beside the demo's 大园社区, imported
// by the street's officer; rounds over them are created by hqstaff in
// the demo's campaign over 芦淞区.
const (
	testingUser     = "jianshe" // street officer of 建设街道: testing.register and testing.sample there
	testingCampaign = "430203"  // the area of the demo's campaign
)

// testingCommunities are 古大桥社区 and 新华桥社区.
var testingCommunities = []string{"430203001002", "430203001003"}

// registerCSV is a household register of n residents in community, three
// to a household, two hundred households to a building, with valid
// GB 11643 ID numbers (born 1960 onwards, a thousand a day; off
// distinguishes communities).
func registerCSV(community string, n, off int) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"社区代码", "小区", "楼栋", "单元", "房号", "姓名", "身份证号"})
	born := time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)
	for k := range n {
		g := off + k
		hh := k / 3
		r := hh % 200
		base := "430204" + born.AddDate(0, 0, g/1000).Format("20060102") + fmt.Sprintf("%03d", g%1000)
		w.Write([]string{community, "压测小区", strconv.Itoa(hh/200+1) + "栋", strconv.Itoa(r/50+1) + "单元",
			strconv.Itoa(((r%50)/2+1)*100 + r%2 + 1), "压测居民" + strconv.Itoa(g), idNumber(base)})
	}
	w.Flush()
	return b.Bytes()
}

// idNumber completes 17 digits with the GB 11643 check character.
func idNumber(base string) string {
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		sum += int(base[i]-'0') * w
	}
	return base + string("10X98765432"[sum%11])
}

// prepareTesting imports the register (perCommunity residents in each of
// testingCommunities), finds the demo's campaign and writes the
// residents' code ids, in register order, to a file for the generator.
func (in *install) prepareTesting(ctx context.Context, base string, perCommunity int) error {
	c := &apiClient{base: base, http: &http.Client{Timeout: 5 * time.Minute}}
	for k, code := range testingCommunities {
		if _, _, err := c.send(ctx, "POST", "/api/v1/households/import", in.testingToken, "text/csv",
			registerCSV(code, perCommunity, k*perCommunity)); err != nil {
			return fmt.Errorf("the register of %s: %w", code, err)
		}
	}
	var camps struct {
		Items []struct {
			ID       int64
			AreaCode string `json:"area_code"`
		}
	}
	if err := c.getJSON(ctx, "/api/v1/campaigns", in.hqToken, &camps); err != nil {
		return fmt.Errorf("the campaigns: %w", err)
	}
	for _, cp := range camps.Items {
		if cp.AreaCode == testingCampaign {
			in.campaign = strconv.FormatInt(cp.ID, 10)
		}
	}
	if in.campaign == "" {
		return fmt.Errorf("the demo has no campaign over %s", testingCampaign)
	}
	codes, err := in.residentCodes(ctx)
	if err != nil {
		return err
	}
	in.residentCount = len(codes)
	in.residentsFile = filepath.Join(in.dir, "residents.txt")
	return os.WriteFile(in.residentsFile, []byte(strings.Join(codes, "\n")+"\n"), 0o600)
}

// residentCodes reads the code ids of the register's residents in
// testingCommunities, by id (the register's order).
func (in *install) residentCodes(ctx context.Context) ([]string, error) {
	d, err := db.Open(ctx, in.dbURL, nil)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	rows, err := d.ReadPool().QueryContext(ctx, `SELECT r.code FROM testing_residents r JOIN testing_households h ON h.id = r.household_id
		WHERE h.community_code IN ($1, $2) ORDER BY r.id`, testingCommunities[0], testingCommunities[1])
	if err != nil {
		return nil, fmt.Errorf("the residents: %w", err)
	}
	defer rows.Close()
	var codes []string
	for rows.Next() {
		var code string
		if err := rows.Scan(&code); err != nil {
			return nil, err
		}
		codes = append(codes, code)
	}
	if err := rows.Err(); err != nil || len(codes) == 0 {
		return nil, fmt.Errorf("the residents: %d read: %v", len(codes), err)
	}
	return codes, nil
}

// newRounds creates k rounds of the demo's campaign over
// testingCommunities, open from an hour ago until tomorrow, and answers
// their ids: a run samples only in rounds of its own.
func (in *install) newRounds(ctx context.Context, base string, k int) ([]string, error) {
	c := &apiClient{base: base, http: &http.Client{Timeout: 5 * time.Minute}}
	now := time.Now().UTC()
	body, _ := json.Marshal(map[string]any{"starts_at": now.Add(-time.Hour), "ends_at": now.Add(24 * time.Hour), "mode": "both",
		"area_codes": testingCommunities})
	ids := make([]string, k)
	for i := range ids {
		got, _, err := c.do(ctx, "POST", "/api/v1/campaigns/"+in.campaign+"/rounds", in.hqToken, body)
		if err != nil {
			return nil, fmt.Errorf("a round: %w", err)
		}
		var r struct{ ID int64 }
		if err := json.Unmarshal(got, &r); err != nil || r.ID == 0 {
			return nil, fmt.Errorf("a round: %v: %.200s", err, got)
		}
		ids[i] = strconv.FormatInt(r.ID, 10)
	}
	return ids, nil
}
