package zone

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"testing"
	"time"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/errs"
	"tongxin/internal/notify"
	"tongxin/internal/testcity"
	"tongxin/internal/zonerule"
)

// Communities of 建设街道 (芦淞区) in the demo city, and one of 贺家土街道.
const (
	street   = "430203001"
	dayuan   = "430203001001"
	gudaqiao = "430203001002"
	hejiatu  = "430203002001"
)

// key is a building key as the register makes it.
func key(community, estate, building string) string {
	h := sha256.Sum256([]byte(community + "\x00" + estate + "\x00" + building))
	return hex.EncodeToString(h[:])[:16]
}

// fakeRegister is a household register: 大园社区 has 大园小区 (1栋–3栋)
// and 建设新村 (1栋); 古大桥社区 has 湘江苑 (8栋). Its residents: r1 in
// 大园小区 1栋, r2 in 建设新村 1栋, r3 in 古大桥 湘江苑 8栋.
type fakeRegister struct{ areas Areas }

var registerEstates = map[string][]Estate{
	dayuan: {{Name: "大园小区", Buildings: []Building{{"1栋", key(dayuan, "大园小区", "1栋")}, {"2栋", key(dayuan, "大园小区", "2栋")},
		{"3栋", key(dayuan, "大园小区", "3栋")}}}, {Name: "建设新村", Buildings: []Building{{"1栋", key(dayuan, "建设新村", "1栋")}}}},
	gudaqiao: {{Name: "湘江苑", Buildings: []Building{{"8栋", key(gudaqiao, "湘江苑", "8栋")}}}},
}

var registerResidents = map[string]Resident{
	"r1": {ID: 1, RID: "r1", NameMasked: "张*", CommunityCode: dayuan, Estate: "大园小区", Building: "1栋"},
	"r2": {ID: 2, RID: "r2", NameMasked: "李*", CommunityCode: dayuan, Estate: "建设新村", Building: "1栋"},
	"r3": {ID: 3, RID: "r3", NameMasked: "王*", CommunityCode: gudaqiao, Estate: "湘江苑", Building: "8栋"},
}

func (fakeRegister) Estates(_ context.Context, community string) ([]Estate, error) {
	return registerEstates[community], nil
}

func (fr fakeRegister) Resident(ctx context.Context, ref string) (*Resident, error) {
	if n, err := strconv.Atoi(ref); err == nil {
		ref = "r" + strconv.Itoa(n)
	}
	r, ok := registerResidents[ref]
	if !ok {
		return nil, errs.E(errs.NotFound, "resident_not_found", "户籍登记中没有此居民")
	}
	a, err := fr.areas.Lookup(ctx, r.CommunityCode)
	if err != nil {
		return nil, err
	}
	r.AreaPath = a.Path
	r.BuildingKey = key(r.CommunityCode, r.Estate, r.Building)
	return &r, nil
}

// fakeNotifier records the messages sent.
type fakeNotifier struct{ sent []notify.Message }

func (n *fakeNotifier) Send(_ context.Context, _ *db.Tx, ids []int64, m notify.Message) error {
	if len(ids) > 0 {
		n.sent = append(n.sent, m)
	}
	return nil
}

type fixture struct {
	*testcity.City
	svc    *Service
	notes  *fakeNotifier
	hq     *auth.Principal // hq_staff of the city: decides
	worker *auth.Principal // community worker of 大园社区: exempts, reads
	other  *auth.Principal // community worker of 古大桥社区
}

func newFixture(t testing.TB, d *db.DB, clk *clock.Manual) *fixture {
	t.Helper()
	f := &fixture{City: testcity.New(t, d, clk), notes: &fakeNotifier{}}
	f.svc = f.service(d)
	f.hq = f.User("hqstaff", auth.HQStaff, "430200")
	f.worker = f.User("dayuanw", auth.CommunityWorker, dayuan)
	f.other = f.User("gudaqiao", auth.CommunityWorker, gudaqiao)
	return f
}

// service builds another service on d (a second instance of the server).
func (f *fixture) service(d *db.DB) *Service {
	return NewService(d, Deps{Areas: f.Areas, Register: fakeRegister{f.Areas}, Users: f.Users, Notifier: f.notes})
}

func each(t *testing.T, fn func(t *testing.T, f *fixture)) { testcity.Each(t, newFixture, fn) }

// at is testcity.Base moved by d.
func at(d time.Duration) time.Time { return testcity.Base.Add(d) }

func ptr[T any](v T) *T { return &v }

// seal decides a sealed zone over the building of dayuan's 大园小区 from
// from as hq.
func (f *fixture) decide(in ZoneInput) *Zone {
	f.T.Helper()
	if in.Reason == "" {
		in.Reason = "发现阳性病例"
	}
	if in.DecisionNo == "" {
		in.DecisionNo = "株防指〔2022〕" + strconv.Itoa(len(f.notes.sent)+int(in.EffectiveFrom.Unix()%1000)) + "号"
	}
	z, err := f.svc.Create(f.Ctx, f.hq, in)
	if err != nil {
		f.T.Fatalf("create %+v: %v", in, err)
	}
	return z
}

func ids(list []*Zone) []int64 {
	out := make([]int64, len(list))
	for i, z := range list {
		out[i] = z.ID
	}
	return out
}

var _ = zonerule.Sealed
