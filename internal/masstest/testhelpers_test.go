package masstest

import (
	"crypto/ed25519"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"context"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/passtoken"
	"tongxin/internal/pii"
	"tongxin/internal/testcity"
)

// Communities of 建设街道 (芦淞区) in the demo city, and one of 贺家土街道.
const (
	street   = "430203001"
	dayuan   = "430203001001"
	gudaqiao = "430203001002"
	xinhua   = "430203001003"
	hejiatu  = "430203002001"
)

// fakeCodes signs and verifies resident codes with a test key.
type fakeCodes struct {
	key ed25519.PrivateKey
	pub ed25519.PublicKey
}

func newFakeCodes(t testing.TB) *fakeCodes {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &fakeCodes{key: priv, pub: pub}
}

func (c *fakeCodes) SignResidents(_ context.Context, claims []passtoken.ResidentClaims) ([]string, error) {
	out := make([]string, len(claims))
	for i, cl := range claims {
		var err error
		if out[i], err = passtoken.SignResident(c.key, "test-k1", cl); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (c *fakeCodes) VerifyResident(token string) (*passtoken.ResidentClaims, passtoken.Reason) {
	cl, _, r := passtoken.VerifyResident(token, func(kid string) ed25519.PublicKey {
		if kid == "test-k1" {
			return c.pub
		}
		return nil
	})
	return cl, r
}

type fixture struct {
	*testcity.City
	svc   *Service
	codes *fakeCodes
	seq   int
}

func newFixture(t testing.TB, d *db.DB, clk *clock.Manual) *fixture {
	t.Helper()
	f := &fixture{City: testcity.New(t, d, clk), codes: newFakeCodes(t)}
	f.svc = NewService(d, Deps{Box: f.Box, Areas: f.Areas, Codes: f.codes, Users: f.Users})
	return f
}

func each(t *testing.T, fn func(t *testing.T, f *fixture)) { testcity.Each(t, newFixture, fn) }

// idNumber makes the nth valid resident ID number (GB 11643).
func idNumber(n int) string {
	body := fmt.Sprintf("430203%s%03d", time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n/1000).Format("20060102"), n%1000)
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, c := range body {
		sum += int(c-'0') * weights[i]
	}
	return body + string("10X98765432"[sum%11])
}

// person is a resident to seed.
type person struct {
	name      string
	birthYear int
	status    Status
	flags     Flags
}

// seeded is a resident as the tests know them.
type seeded struct {
	id        int64
	code      string
	idNumber  string
	household int64
	community string
	estate    string
	building  string
	room      string
	status    Status
}

// household seeds a household of community with people, straight into
// the register (the import is tested on its own), and answers them.
func (f *fixture) household(community, estate, building, unit, room string, people ...person) []seeded {
	f.T.Helper()
	path := f.path(community)
	var out []seeded
	err := f.DB.Write(f.Ctx, func(tx *db.Tx) error {
		members := 0
		for _, p := range people {
			if p.status == "" || p.status.InPopulation() {
				members++
			}
		}
		var hh int64
		f.seq++
		if err := tx.QueryRowContext(f.Ctx, `INSERT INTO testing_households (code, community_code, area_path, estate, building,
			unit, room, members, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id`,
			fmt.Sprintf("H%06d", f.seq), community, path, estate, building, unit, room, members, tx.NowMS()).Scan(&hh); err != nil {
			return err
		}
		for _, p := range people {
			f.seq++
			id := idNumber(f.seq)
			st := p.status
			if st == "" {
				st = Present
			}
			by := p.birthYear
			if by == 0 {
				by = 1980
			}
			name, _ := f.Box.Seal(p.name)
			idEnc, _ := f.Box.Seal(id)
			s := seeded{code: fmt.Sprintf("R%06d", f.seq), idNumber: id, household: hh, community: community, estate: estate,
				building: building, room: room, status: st}
			if err := tx.QueryRowContext(f.Ctx, `INSERT INTO testing_residents (code, household_id, name_masked, name_enc, id_enc,
				id_idx, id4, birth_year, mobility_impaired, elderly_alone, bedridden, infant, status, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) RETURNING id`,
				s.code, hh, pii.MaskName(p.name), name, idEnc, f.Box.Index(pii.KindResidentID, id), pii.Last4(id), by,
				p.flags.MobilityImpaired, p.flags.ElderlyAlone, p.flags.Bedridden, p.flags.Infant, string(st), tx.NowMS()).Scan(&s.id); err != nil {
				return err
			}
			out = append(out, s)
		}
		return rebuildCoverage(f.Ctx, tx, path)
	})
	if err != nil {
		f.T.Fatalf("household: %v", err)
	}
	return out
}

func (f *fixture) path(code string) string {
	f.T.Helper()
	a, err := f.Areas.Lookup(f.Ctx, code)
	if err != nil {
		f.T.Fatal(err)
	}
	return a.Path
}

// estateOf seeds n households of 1 to 4 residents in community, spread
// over buildings of ten rooms.
func (f *fixture) estateOf(community, estate string, n int) []seeded {
	var out []seeded
	for i := 0; i < n; i++ {
		var people []person
		for j := 0; j <= (i*7+3)%4; j++ {
			people = append(people, person{name: fmt.Sprintf("居民%d之%d", i, j), birthYear: 1950 + (i+j)%60})
		}
		out = append(out, f.household(community, estate, fmt.Sprintf("%d栋", i/10+1), "1单元", fmt.Sprintf("%d", 101+i%10), people...)...)
	}
	return out
}

// campaign creates a campaign over area and a round of it open around
// the fixture's time, as the system.
func (f *fixture) round(area string, areas ...string) *Round {
	f.T.Helper()
	c, err := f.svc.CreateCampaign(f.Ctx, f.Sys, CampaignInput{Name: "全员核酸检测", AreaCode: area})
	if err != nil {
		f.T.Fatal(err)
	}
	return f.nextRound(c.ID, areas...)
}

func (f *fixture) nextRound(campaign int64, areas ...string) *Round {
	f.T.Helper()
	now := f.Clock.Now()
	r, err := f.svc.CreateRound(f.Ctx, f.Sys, fmt.Sprint(campaign), RoundInput{StartsAt: now.Add(-time.Hour), EndsAt: now.Add(12 * time.Hour),
		Mode: ModeBoth, AreaCodes: areas})
	if err != nil {
		f.T.Fatal(err)
	}
	return r
}

// sample is a sample record of s in tube.
func sample(s seeded, tube string, pool int) SampleInput {
	return SampleInput{ClientID: "c-" + s.code + "-" + tube, Resident: s.code, Tube: tube, PoolSize: pool, Mode: AtDoor}
}

// record stores samples as p and fails the test on a request error.
func (f *fixture) record(p *auth.Principal, r *Round, in ...SampleInput) []SampleResult {
	f.T.Helper()
	out, err := f.svc.RecordSamples(f.Ctx, p, fmt.Sprint(r.ID), in)
	if err != nil {
		f.T.Fatalf("samples: %v", err)
	}
	return out
}

// sampleAll samples people in tubes of pool, filling each tube.
func (f *fixture) sampleAll(r *Round, people []seeded, pool int, prefix string) {
	f.T.Helper()
	var in []SampleInput
	for i, s := range people {
		in = append(in, sample(s, fmt.Sprintf("%s-%d", prefix, i/pool), pool))
	}
	for start := 0; start < len(in); start += MaxSampleBatch {
		res := f.record(f.Sys, r, in[start:min(start+MaxSampleBatch, len(in))]...)
		for i, x := range res {
			if x.Status != Created {
				f.T.Fatalf("sample %d: %+v", start+i, x)
			}
		}
	}
}

// missedAll reads every page of a round's missed list under area.
func (f *fixture) missedAll(p *auth.Principal, r *Round, area string) ([]string, *MissedList) {
	f.T.Helper()
	var codes []string
	var first *MissedList
	for page := 1; ; page++ {
		l, err := f.svc.Missed(f.Ctx, p, fmt.Sprint(r.ID), MissedQuery{Area: area, Page: page, PerPage: 7})
		if err != nil {
			f.T.Fatal(err)
		}
		if first == nil {
			first = l
		}
		for _, m := range l.Items {
			codes = append(codes, m.Resident)
		}
		if len(l.Items) < 7 {
			break
		}
	}
	return codes, first
}

// tallySnapshot is a round's coverage rows as text, for comparing the
// kept rows with rebuilt ones.
func (f *fixture) tallySnapshot(round int64) string {
	f.T.Helper()
	var lines []string
	err := f.DB.Read(f.Ctx, func(tx *db.Tx) error {
		return db.Each(f.Ctx, tx, func(sc db.Scanner) error {
			var a, e, b string
			var n [9]int
			if err := sc.Scan(&a, &e, &b, &n[0], &n[1], &n[2], &n[3], &n[4], &n[5], &n[6], &n[7], &n[8]); err != nil {
				return err
			}
			lines = append(lines, fmt.Sprint(a, e, b, n))
			return nil
		}, `SELECT area_path, estate, building, households, persons, hh_sampled, hh_exempt, sampled, ex_away, ex_hospitalized,
			ex_infant, ex_deceased FROM testing_tally WHERE round_id = $1`, round)
	})
	if err != nil {
		f.T.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// rebuilt is the round's rows rebuilt from the samples and exemptions.
func (f *fixture) rebuilt(r *Round) string {
	f.T.Helper()
	err := f.DB.Write(f.Ctx, func(tx *db.Tx) error {
		cs, err := communitiesWithHouseholds(f.Ctx, tx, roundPaths(r))
		for _, c := range cs {
			if err == nil {
				err = rebuildCommunity(f.Ctx, tx, r.ID, c)
			}
		}
		return err
	})
	if err != nil {
		f.T.Fatal(err)
	}
	return f.tallySnapshot(r.ID)
}

// imported imports a generated register of community (register's n,
// estates, buildings) through ImportHouseholds as the system, and
// answers its residents as the tests know them, in file order.
func (f *fixture) imported(community string, n, estates, buildings int) []seeded {
	f.T.Helper()
	people := register(community, n, estates, buildings)
	if _, err := f.svc.ImportHouseholds(f.Ctx, f.Sys, csvOf(people)); err != nil {
		f.T.Fatalf("import: %v", err)
	}
	out := make([]seeded, len(people))
	err := f.DB.Read(f.Ctx, func(tx *db.Tx) error {
		for i, p := range people {
			s := seeded{idNumber: p.id, community: community, estate: p.estate, building: p.building, room: p.room, status: Present}
			if err := tx.QueryRowContext(f.Ctx, `SELECT id, code, household_id FROM testing_residents WHERE id_idx = $1`,
				f.Box.Index(pii.KindResidentID, p.id)).Scan(&s.id, &s.code, &s.household); err != nil {
				return err
			}
			out[i] = s
		}
		return nil
	})
	if err != nil {
		f.T.Fatal(err)
	}
	return out
}

// storedSamples are the ids of round's samples by client id, as stored.
func (f *fixture) storedSamples(t *testing.T, round int64) map[string]int64 {
	t.Helper()
	stored := map[string]int64{}
	err := f.DB.Read(f.Ctx, func(tx *db.Tx) error {
		rows, err := tx.QueryContext(f.Ctx, `SELECT client_id, id FROM testing_samples WHERE round_id = $1`, round)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c string
			var id int64
			if err := rows.Scan(&c, &id); err != nil {
				return err
			}
			stored[c] = id
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return stored
}
