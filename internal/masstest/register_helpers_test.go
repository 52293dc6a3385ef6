package masstest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"strings"
	"testing"

	"tongxin/internal/auth"
	"tongxin/internal/clock"
	"tongxin/internal/db"
	"tongxin/internal/passtoken"
	"tongxin/internal/testcity"
)

// The register tests' fixture: the demo city, the service with a fake
// code signer (the pass format, a test key), and generated register
// files.

// The communities of the tests (testhelpers_test.go): dayuan, gudaqiao
// and xinhua of 建设街道 (street).

// regCodes signs resident codes as the pass verifier does, with one test
// key.
type regCodes struct {
	key ed25519.PrivateKey
	pub ed25519.PublicKey
}

const regKid = "reg-k1"

func (c *regCodes) SignResidents(_ context.Context, claims []passtoken.ResidentClaims) ([]string, error) {
	out := make([]string, len(claims))
	for i, cl := range claims {
		var err error
		if out[i], err = passtoken.SignResident(c.key, regKid, cl); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (c *regCodes) VerifyResident(token string) (*passtoken.ResidentClaims, passtoken.Reason) {
	cl, _, r := passtoken.VerifyResident(token, c.keys)
	return cl, r
}

func (c *regCodes) keys(kid string) ed25519.PublicKey {
	if kid == regKid {
		return c.pub
	}
	return nil
}

type regFixture struct {
	*testcity.City
	svc   *Service
	codes *regCodes
}

func newRegFixture(t testing.TB, d *db.DB, clk *clock.Manual) *regFixture {
	t.Helper()
	f := &regFixture{City: testcity.New(t, d, clk)}
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	f.codes = &regCodes{key: priv, pub: pub}
	f.svc = NewService(d, Deps{Box: f.Box, Areas: f.Areas, Codes: f.codes, Users: f.Users})
	return f
}

// regEach runs fn on every configured database.
func regEach(t *testing.T, fn func(t *testing.T, f *regFixture)) {
	testcity.Each(t, newRegFixture, fn)
}

// regPerson is one row of a generated register file.
type regPerson struct {
	community, estate, building, unit, room string
	name, id, phone, birthYear, flags       string
	status, statusDate                      string
}

var regHeader = []string{"社区代码", "小区", "楼栋", "单元", "房号", "姓名", "身份证号", "手机号", "出生年份", "标记", "状态", "状态日期"}

func (p regPerson) cells() []string {
	return []string{p.community, p.estate, p.building, p.unit, p.room, p.name, p.id, p.phone, p.birthYear, p.flags, p.status,
		p.statusDate}
}

// csvOf is the register file of people, Chinese headers.
func csvOf(people []regPerson) []byte {
	var b bytes.Buffer
	b.WriteString(strings.Join(regHeader, ",") + "\n")
	for _, p := range people {
		b.WriteString(strings.Join(p.cells(), ",") + "\n")
	}
	return b.Bytes()
}

// residentID makes a valid ID number from a region, a birth date and a
// sequence.
func residentID(region string, year, month, day, seq int) string {
	body := fmt.Sprintf("%s%04d%02d%02d%03d", region, year, month, day, seq%1000)
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		sum += int(body[i]-'0') * w
	}
	return body + string("10X98765432"[sum%11])
}

var familyNames = []string{"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴"}

// register generates the people of a community: estates × buildings ×
// 2 units × 10 rooms, one to three residents a household. n makes the ID
// numbers distinct across communities.
func register(community string, n, estates, buildings int) []regPerson {
	var out []regPerson
	seq := 0
	for e := range estates {
		for b := range buildings {
			for u := range 2 {
				for r := range 10 {
					size := 1 + (e+b+u+r)%3
					for m := range size {
						seq++
						k := n*100000 + seq
						p := regPerson{community: community, estate: fmt.Sprintf("小区%d", e+1), building: fmt.Sprintf("%d栋", b+1),
							unit: fmt.Sprintf("%d单元", u+1), room: fmt.Sprintf("%d%02d", r/2+1, r%2+1),
							name:  familyNames[k%10] + fmt.Sprintf("居民%d", k),
							id:    residentID("430203", 1950+k%60, 1+k%12, 1+k%28, k),
							phone: fmt.Sprintf("139%08d", k)}
						if m == 2 {
							p.flags = "独居老人、行动不便"
						}
						out = append(out, p)
					}
				}
			}
		}
	}
	return out
}

// mustImport imports people as p, failing the test on error.
func (f *regFixture) mustImport(p *auth.Principal, people []regPerson) *RegisterImport {
	f.T.Helper()
	res, err := f.svc.ImportHouseholds(f.Ctx, p, csvOf(people))
	if err != nil {
		f.T.Fatalf("import: %v", err)
	}
	return res
}
