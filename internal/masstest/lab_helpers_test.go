package masstest

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/notify"
	"tongxin/internal/pii"
	"tongxin/internal/testcity"
)

// The lab tests' fixture: the demo city, a campaign over 芦淞区 with one
// round over 建设街道, and households, residents, tubes and samples
// written by small SQL statements of their own (the register and the
// sampling have their own tests).

// 新华桥社区 of 建设街道 (大园社区 and 古大桥社区: testhelpers_test.go).
const xinhuaqiao = "430203001003"

// sentMessage is a notification the fake notifier took.
type sentMessage struct {
	To  []int64
	Msg notify.Message
}

// recorder is a Notifier that keeps what it is given once the
// transaction commits, as notify.Service's rows are kept.
type recorder struct {
	mu   sync.Mutex
	sent []sentMessage
}

func (r *recorder) Send(_ context.Context, tx *db.Tx, to []int64, m notify.Message) error {
	msg := sentMessage{To: slices.Clone(to), Msg: m}
	tx.AfterCommit(func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.sent = append(r.sent, msg)
	})
	return nil
}

// to lists the messages sent to user id.
func (r *recorder) to(id int64) []notify.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []notify.Message
	for _, s := range r.sent {
		if slices.Contains(s.To, id) {
			out = append(out, s.Msg)
		}
	}
	return out
}

// sealer is a SealProposer that keeps the proposals it is given.
type sealer struct {
	mu  sync.Mutex
	got []SealProposal
}

func (s *sealer) ProposeSeal(_ context.Context, _ *db.Tx, p SealProposal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, p)
	return nil
}

type labFixture struct {
	*testcity.City
	svc   *Service
	sent  *recorder
	seals *sealer
	round int64
	n     int // residents made so far
}

func newLabFixture(t testing.TB, d *db.DB, clk *clock.Manual) *labFixture {
	t.Helper()
	f := &labFixture{City: testcity.New(t, d, clk), sent: &recorder{}, seals: &sealer{}}
	f.svc = NewService(d, Deps{Box: f.Box, Areas: f.Areas, Users: f.Users, Notifier: f.sent, Sealer: f.seals})
	return f
}

// eachLab runs fn on every configured database with a fresh fixture.
func eachLab(t *testing.T, fn func(t *testing.T, f *labFixture)) {
	testcity.Each(t, newLabFixture, fn)
}

// startRound creates the campaign and its round over 建设街道, open from
// an hour before testBase for a day, once the households are in.
func (f *labFixture) startRound() int64 {
	f.T.Helper()
	c, err := f.svc.CreateCampaign(f.Ctx, f.Sys, CampaignInput{Name: "芦淞区全员核酸", AreaCode: "430203"})
	if err != nil {
		f.T.Fatal(err)
	}
	r, err := f.svc.CreateRound(f.Ctx, f.Sys, strconv.FormatInt(c.ID, 10), RoundInput{StartsAt: testcity.Base.Add(-time.Hour),
		EndsAt: testcity.Base.Add(23 * time.Hour), Mode: ModeBoth, AreaCodes: []string{"430203001"}})
	if err != nil {
		f.T.Fatal(err)
	}
	f.round = r.ID
	return r.ID
}

// exec runs a statement in a write transaction.
func (f *labFixture) exec(fn func(tx *db.Tx) error) {
	f.T.Helper()
	if err := f.DB.Write(f.Ctx, fn); err != nil {
		f.T.Fatal(err)
	}
}

// household adds a room of estate 庐山春天 in community and answers its id.
func (f *labFixture) household(community, building, room string) int64 {
	f.T.Helper()
	a, err := f.Areas.Lookup(f.Ctx, community)
	if err != nil {
		f.T.Fatal(err)
	}
	var id int64
	f.exec(func(tx *db.Tx) error {
		return tx.QueryRowContext(f.Ctx, `INSERT INTO testing_households (code, community_code, area_path, estate, building,
			unit, room, members, created_at, updated_at) VALUES ($1, $2, $3, '庐山春天', $4, '1', $5, 0, $6, $6) RETURNING id`,
			fmt.Sprintf("H-%s-%s-%s", community, building, room), community, a.Path, building, room, tx.NowMS()).Scan(&id)
	})
	return id
}

// idNumber is the made-up ID number of the n-th resident.
func labIDNumber(n int) string { return fmt.Sprintf("43020319800101%04d", n) }

// resident adds a resident to a household and answers their id.
func (f *labFixture) resident(hh int64) int64 {
	f.T.Helper()
	f.n++
	n := f.n
	name := fmt.Sprintf("居民%d号", n)
	nameEnc, err := f.Box.Seal(name)
	if err != nil {
		f.T.Fatal(err)
	}
	idEnc, err := f.Box.Seal(labIDNumber(n))
	if err != nil {
		f.T.Fatal(err)
	}
	var id int64
	f.exec(func(tx *db.Tx) error {
		if err := tx.QueryRowContext(f.Ctx, `INSERT INTO testing_residents (code, household_id, name_masked, name_enc, id_enc,
			id_idx, id4, birth_year, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 1980, 'present', $8, $8)
			RETURNING id`, fmt.Sprintf("R%05d", n), hh, pii.MaskName(name), nameEnc, idEnc, f.Box.Index(pii.KindResidentID, labIDNumber(n)),
			pii.Last4(labIDNumber(n)), tx.NowMS()).Scan(&id); err != nil {
			return err
		}
		_, err := tx.ExecContext(f.Ctx, `UPDATE testing_households SET members = members + 1 WHERE id = $1`, hh)
		return err
	})
	return id
}

// tube adds an empty tube of pool size to the round.
func (f *labFixture) tube(barcode string, pool int) int64 {
	f.T.Helper()
	var id int64
	f.exec(func(tx *db.Tx) error {
		return tx.QueryRowContext(f.Ctx, `INSERT INTO testing_tubes (barcode, round_id, pool_size, filled) VALUES ($1, $2, $3, 0)
			RETURNING id`, barcode, f.round, pool).Scan(&id)
	})
	return id
}

// sample puts a resident into a tube at testBase (retest 0: the round's
// sample).
func (f *labFixture) sample(resident, tube, retest int64) {
	f.T.Helper()
	f.exec(func(tx *db.Tx) error {
		var rt sql.NullInt64
		if retest > 0 {
			rt = sql.NullInt64{Int64: retest, Valid: true}
		}
		at := testcity.Base.UnixMilli()
		if _, err := tx.ExecContext(f.Ctx, `INSERT INTO testing_samples (round_id, resident_id, household_id, tube_id, mode,
			collector, client_id, sampled_at, received_at, retest_id)
			SELECT $1, r.id, r.household_id, $2, 'door', 'tester', $3, $4, $4, $5 FROM testing_residents r WHERE r.id = $6`,
			f.round, tube, fmt.Sprintf("c-%d-%d-%d", resident, tube, retest), at, rt, resident); err != nil {
			return err
		}
		_, err := tx.ExecContext(f.Ctx, `UPDATE testing_tubes SET filled = filled + 1 WHERE id = $1`, tube)
		return err
	})
}

// pool makes a tube of pool size holding the residents.
func (f *labFixture) pool(barcode string, size int, residents ...int64) int64 {
	f.T.Helper()
	t := f.tube(barcode, size)
	for _, r := range residents {
		f.sample(r, t, 0)
	}
	return t
}

// people adds n residents, one per room, in community's building.
func (f *labFixture) people(community, building string, n int) []int64 {
	f.T.Helper()
	out := make([]int64, n)
	for i := range out {
		out[i] = f.resident(f.household(community, building, fmt.Sprintf("%d%02d", i/4+1, i%4+1)))
	}
	return out
}

// store sends one batch as p and fails the test on error.
func (f *labFixture) store(p *auth.Principal, recs ...LabRecord) *LabSummary {
	f.T.Helper()
	out, err := f.svc.StoreLabResults(f.Ctx, p, LabBatch{Results: recs})
	if err != nil {
		f.T.Fatal(err)
	}
	return out
}

// rec is a result reported at testBase.
func rec(tube, result string) LabRecord {
	return LabRecord{Tube: tube, Result: result, Lab: "株洲市疾控中心", ReportedAt: testcity.Base.Format(time.RFC3339)}
}

// openRetest answers the open retest of a resident.
func (f *labFixture) openRetest(resident int64) int64 {
	f.T.Helper()
	var id int64
	err := f.DB.Read(f.Ctx, func(tx *db.Tx) error {
		return tx.QueryRowContext(f.Ctx, `SELECT id FROM testing_retests WHERE resident_id = $1 AND status = 'open'
			AND done_at IS NULL`, resident).Scan(&id)
	})
	if err != nil {
		f.T.Fatalf("open retest of %d: %v", resident, err)
	}
	return id
}
