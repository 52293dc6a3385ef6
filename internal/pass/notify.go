package pass

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"tongxin/internal/auth"
	"tongxin/internal/db"
	"tongxin/internal/notify"
)

// Users finds whom to notify; auth.Service satisfies it.
type Users interface {
	// Holders lists the users holding roles at one scope (an
	// enterprise's contacts).
	Holders(ctx context.Context, tx *db.Tx, kind auth.ScopeKind, ref string, roles ...auth.Role) ([]int64, error)
	// Granted lists the users of the given roles granted perm over the
	// area at path (a batch's reviewers).
	Granted(ctx context.Context, tx *db.Tx, perm auth.Permission, path string, roles ...auth.Role) ([]int64, error)
}

// Notifier delivers notifications inside a transaction; notify.Service
// satisfies it.
type Notifier interface {
	Send(ctx context.Context, tx *db.Tx, userIDs []int64, m notify.Message) error
}

// Events a pass batch or pass sends.
const (
	EventBatchSubmitted = "pass.batch_submitted"
	EventBatchApproved  = "pass.batch_approved"
	EventBatchRejected  = "pass.batch_rejected"
	EventRevoked        = "pass.revoked"
)

// reviewerRoles are whom a batch awaiting review is announced to: the
// officers of the departments that review passes over its area, or, where
// no department does, the HQ staff over it. System administrators may
// review but are not told of every batch.
var reviewerRoles = [][]auth.Role{{auth.DepartmentOfficer}, {auth.HQStaff}}

// send sends m inside tx when the service has a notifier.
func (s *Service) send(ctx context.Context, tx *db.Tx, to []int64, m notify.Message) error {
	if s.notifier == nil || s.users == nil {
		return nil
	}
	return s.notifier.Send(ctx, tx, to, m)
}

// notifyReviewers announces a batch awaiting review to its reviewers.
func (s *Service) notifyReviewers(ctx context.Context, tx *db.Tx, id int64, entName, path string, rows, persons int) error {
	if s.notifier == nil || s.users == nil {
		return nil
	}
	var to []int64
	for _, roles := range reviewerRoles {
		ids, err := s.users.Granted(ctx, tx, auth.PassReview, path, roles...)
		if err != nil {
			return err
		}
		if to = ids; len(to) > 0 {
			break
		}
	}
	return s.send(ctx, tx, to, notify.Message{Event: EventBatchSubmitted,
		Title: fmt.Sprintf("通行证申请第 %d 批待审核", id),
		Body:  fmt.Sprintf("%s 提交通行证申请 %d 份（人员 %d，车辆 %d）", entName, rows, persons, rows-persons),
		Link:  batchLink(id), ObjectType: "pass_batch", ObjectID: strconv.FormatInt(id, 10), AreaPath: path})
}

// notifyEnterprise tells an enterprise's contacts of m.
func (s *Service) notifyEnterprise(ctx context.Context, tx *db.Tx, key string, m notify.Message) error {
	if s.notifier == nil || s.users == nil {
		return nil
	}
	to, err := s.users.Holders(ctx, tx, auth.ScopeEnterprise, key, auth.EnterpriseContact)
	if err != nil {
		return err
	}
	return s.send(ctx, tx, to, m)
}

// decidedMessage is the message of an approval: how many passes were
// issued and why each row left out was not approved.
func decidedMessage(b *Batch, issued int, left []RowReason, note string) notify.Message {
	title := fmt.Sprintf("通行证申请第 %d 批已批准", b.ID)
	if len(left) > 0 {
		title = fmt.Sprintf("通行证申请第 %d 批部分批准", b.ID)
	}
	var body strings.Builder
	fmt.Fprintf(&body, "%s：签发 %d 张", b.EnterpriseName, issued)
	if len(left) > 0 {
		fmt.Fprintf(&body, "，未批准 %d 行", len(left))
	}
	if note = strings.TrimSpace(note); note != "" {
		body.WriteString("\n审核意见：" + note)
	}
	const shown = 10
	for i, r := range left {
		if i == shown {
			fmt.Fprintf(&body, "\n…另有 %d 行，见批次页面", len(left)-shown)
			break
		}
		fmt.Fprintf(&body, "\n第 %d 行：%s", r.Row, r.Reason)
	}
	return notify.Message{Event: EventBatchApproved, Title: title, Body: body.String(), Link: batchLink(b.ID),
		ObjectType: "pass_batch", ObjectID: strconv.FormatInt(b.ID, 10), AreaPath: b.AreaPath}
}

func batchLink(id int64) string { return "/pass-batches/" + strconv.FormatInt(id, 10) }
