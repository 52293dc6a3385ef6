package masstest

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"

	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/notify"
)

// Events the lab results send (notify.Events names them).
const (
	EventPoolPositive = "testing.pool_positive"
	EventPositive     = "testing.positive"
	EventResample     = "testing.resample"
)

// ProposalsLink is the zones' proposal queue, where a positive single
// tube's message leads.
const ProposalsLink = "/zones/proposals"

// workers are the community workers who sample in the community at path.
func (s *Service) workers(ctx context.Context, tx *db.Tx, path string) ([]int64, error) {
	return s.users.Granted(ctx, tx, auth.TestingSample, path, auth.CommunityWorker)
}

// testingGroup are the members of the testing group (and the HQ staff)
// who manage testing over the area at path.
func (s *Service) testingGroup(ctx context.Context, tx *db.Tx, path string) ([]int64, error) {
	return s.users.Granted(ctx, tx, auth.TestingManage, path, auth.WorkgroupMember, auth.HQStaff)
}

// retestLink is the retest board of a round and community.
func retestLink(round int64, community string) string {
	return "/testing/retests?" + url.Values{"round": {strconv.FormatInt(round, 10)}, "area": {community}}.Encode()
}

// noticeRetests tells a community's workers that members (all of that
// community) are to be sampled again; a positive pool also tells the
// testing group. No name or ID number is in the message.
func (s *Service) noticeRetests(ctx context.Context, tx *db.Tx, t *tubeRef, members []tubeMember, cause RetestCause) error {
	if s.users == nil || s.notifier == nil || len(members) == 0 {
		return nil
	}
	c := members[0]
	to, err := s.workers(ctx, tx, c.CommunityPath)
	if err != nil {
		return err
	}
	m := notify.Message{Link: retestLink(t.RoundID, c.CommunityCode), ObjectType: "testing_tube",
		ObjectID: strconv.FormatInt(t.ID, 10), AreaPath: c.CommunityPath}
	if cause == CausePoolPositive {
		group, err := s.testingGroup(ctx, tx, c.CommunityPath)
		if err != nil {
			return err
		}
		to = union(to, group)
		m.Event = EventPoolPositive
		m.Title = fmt.Sprintf("混管阳性：%s %d 人待复核", c.CommunityName, len(members))
		m.Body = fmt.Sprintf("管码 %s（%d 混 1）检测阳性，%s %d 名居民已列入复核名单，请立即安排上门单管采样复核。",
			t.Barcode, t.PoolSize, c.CommunityName, len(members))
	} else {
		m.Event = EventResample
		m.Title = fmt.Sprintf("样本无效：%s %d 人需重新采样", c.CommunityName, len(members))
		m.Body = fmt.Sprintf("管码 %s 检测结果无效，%s %d 名居民已列入复核名单，请安排单管重新采样。",
			t.Barcode, c.CommunityName, len(members))
	}
	return s.notifier.Send(ctx, tx, to, m)
}

// noticePositive tells the testing group over the resident's community
// that a single tube came back positive: the estate and building, never
// the name or ID number. With the zones wired, the sealing proposal is on
// the zones' proposal queue, where the message leads; without, the
// message proposes sealing and leads to the retest board.
func (s *Service) noticePositive(ctx context.Context, tx *db.Tx, t *tubeRef, m tubeMember) error {
	if s.users == nil || s.notifier == nil {
		return nil
	}
	to, err := s.testingGroup(ctx, tx, m.CommunityPath)
	if err != nil {
		return err
	}
	place := m.CommunityName + " " + m.Estate + " " + m.Building
	msg := notify.Message{
		Event:      EventPositive,
		Title:      "单管阳性：建议封控 " + place,
		Body:       fmt.Sprintf("管码 %s 单管检测阳性，居民住 %s。建议封控该楼栋，请按本通知研判处置。", t.Barcode, place),
		Link:       retestLink(t.RoundID, m.CommunityCode),
		ObjectType: "testing_tube",
		ObjectID:   strconv.FormatInt(t.ID, 10),
		AreaPath:   m.CommunityPath,
	}
	if s.sealer != nil {
		msg.Title = "单管阳性：已提议封控 " + place
		msg.Body = fmt.Sprintf("管码 %s 单管检测阳性，居民住 %s。已生成封控该楼栋的提议，待指挥部在封控提议页确认。", t.Barcode, place)
		msg.Link = ProposalsLink
	}
	return s.notifier.Send(ctx, tx, to, msg)
}

// union is a and the ids of b not in a.
func union(a, b []int64) []int64 {
	for _, id := range b {
		if !slices.Contains(a, id) {
			a = append(a, id)
		}
	}
	return a
}
