package app

import (
	"context"
	"net/http"
	"strings"
	"time"

	"tongxin/internal/account"
	"tongxin/internal/apispec"
	"tongxin/internal/area"
	"tongxin/internal/checkpoint"
	"tongxin/internal/errs"
	"tongxin/internal/masstest"
	"tongxin/internal/notify"
	"tongxin/internal/pass"
	"tongxin/internal/quarantine"
	"tongxin/internal/resumption"
	"tongxin/internal/ticket"
	"tongxin/internal/web"
	"tongxin/internal/zone"
)

// routes holds every handler; table() is the whole URL surface of Tongxin
// in one place. The access-matrix and API-documentation tests walk it.
type routes struct {
	a        *web.Adapter
	sys      *System
	render   *web.Renderer
	metrics  *web.Metrics
	account  *account.Handlers
	areaAPI  *area.API
	areaUI   *area.Pages
	resAPI   *resumption.API
	resUI    *resumption.Pages
	tickets  *ticket.API
	ticketUI *ticket.Pages
	ntAPI    *notify.API
	ntUI     *notify.Pages
	passAPI  *pass.API
	passUI   *pass.Pages
	cpAPI    *checkpoint.API
	cpUI     *checkpoint.Pages
	scanUI   *checkpoint.ScanPage
	testAPI  *masstest.API
	testUI   *masstest.Pages
	zoneAPI  *zone.API
	zoneUI   *zone.Pages
	quarAPI  *quarantine.API
	quarUI   *quarantine.Pages
	imports  *web.Gate // every import, API and page: web.MaxConcurrentImports at once
}

// Route is one pattern and its handler.
type Route struct {
	Pattern string
	Handler web.Handler
	// Public routes answer without a login; every other API route must
	// answer 401 to an anonymous caller.
	Public bool
}

func (rt *routes) table() []Route {
	acct, areas, ui := rt.account, rt.areaAPI, rt.areaUI
	res, resUI := rt.resAPI, rt.resUI
	tk := rt.tickets
	tkUI := rt.ticketUI
	nt, ntUI := rt.ntAPI, rt.ntUI
	ps, psUI := rt.passAPI, rt.passUI
	mt, mtUI := rt.testAPI, rt.testUI
	cp, cpUI := rt.cpAPI, rt.cpUI
	zn, znUI := rt.zoneAPI, rt.zoneUI
	return []Route{
		// Operations
		{Pattern: "GET /healthz", Handler: rt.healthz, Public: true},
		{Pattern: "GET /metrics", Handler: rt.metricsHandler, Public: true},
		{Pattern: "GET /api/v1/openapi.json", Handler: apispec.Serve, Public: true},

		// Accounts and sessions
		{Pattern: "GET /api/v1/me", Handler: acct.APIMe},
		{Pattern: "POST /api/v1/session", Handler: acct.APILogin, Public: true},
		{Pattern: "DELETE /api/v1/session", Handler: acct.APILogout, Public: true},
		{Pattern: "GET /api/v1/users", Handler: acct.APIUsers},
		{Pattern: "POST /api/v1/users", Handler: acct.APICreateUser},
		{Pattern: "GET /api/v1/users/{username}", Handler: acct.APIUser},
		{Pattern: "POST /api/v1/users/{username}/roles", Handler: acct.APIAddRole},
		{Pattern: "POST /api/v1/users/{username}/roles/remove", Handler: acct.APIRemoveRole},
		{Pattern: "PUT /api/v1/users/{username}/password", Handler: acct.APISetPassword},
		{Pattern: "PUT /api/v1/users/{username}/status", Handler: acct.APISetStatus},
		{Pattern: "POST /api/v1/users/{username}/reveal-phone", Handler: acct.APIRevealPhone},
		{Pattern: "GET /api/v1/users/{username}/tokens", Handler: acct.APITokens},
		{Pattern: "POST /api/v1/users/{username}/tokens", Handler: acct.APICreateToken},
		{Pattern: "DELETE /api/v1/tokens/{id}", Handler: acct.APIRevokeToken},
		{Pattern: "GET /api/v1/audit", Handler: acct.APIAudit},

		// Jurisdictions, departments, work groups
		{Pattern: "GET /api/v1/areas", Handler: areas.List},
		{Pattern: "GET /api/v1/areas/{code}", Handler: areas.Get},
		{Pattern: "GET /api/v1/areas/{code}/children", Handler: areas.Children},
		{Pattern: "POST /api/v1/areas/import", Handler: rt.imports.H(areas.Import)},
		{Pattern: "GET /api/v1/areas/import/template", Handler: areas.Template},
		{Pattern: "GET /api/v1/departments", Handler: areas.Departments},
		{Pattern: "POST /api/v1/departments", Handler: areas.CreateDepartment},
		{Pattern: "PUT /api/v1/departments/{code}", Handler: areas.UpdateDepartment},
		{Pattern: "GET /api/v1/workgroups", Handler: areas.Workgroups},
		{Pattern: "POST /api/v1/workgroups", Handler: areas.CreateWorkgroup},
		{Pattern: "PUT /api/v1/workgroups/{code}", Handler: areas.UpdateWorkgroup},

		// Work resumption: registry, reports, liaisons
		{Pattern: "GET /api/v1/enterprises", Handler: res.List},
		{Pattern: "POST /api/v1/enterprises", Handler: res.Create},
		{Pattern: "GET /api/v1/enterprises/{key}", Handler: res.Get},
		{Pattern: "POST /api/v1/enterprises/import", Handler: rt.imports.H(res.Import)},
		{Pattern: "GET /api/v1/enterprises/import/template", Handler: res.ImportTemplate},
		{Pattern: "POST /api/v1/enterprises/{key}/reports", Handler: res.FileReport},
		{Pattern: "GET /api/v1/enterprises/{key}/reports", Handler: res.Reports},
		{Pattern: "POST /api/v1/resumption/reports/import", Handler: rt.imports.H(res.ImportReports)},
		{Pattern: "GET /api/v1/resumption/reports/import/template", Handler: res.ReportsTemplate},
		{Pattern: "PUT /api/v1/enterprises/{key}/liaisons/{username}", Handler: res.AssignLiaison},
		{Pattern: "DELETE /api/v1/enterprises/{key}/liaisons/{username}", Handler: res.UnassignLiaison},
		// Work resumption: statistics, power load, briefing
		{Pattern: "GET /api/v1/resumption/stats", Handler: res.Stats},
		{Pattern: "GET /api/v1/resumption/stats.xlsx", Handler: res.ExportStats},
		{Pattern: "GET /api/v1/resumption/breakdown", Handler: res.Breakdown},
		{Pattern: "GET /api/v1/resumption/trend", Handler: res.Trend},
		{Pattern: "GET /api/v1/resumption/not-resumed", Handler: res.NotResumed},
		{Pattern: "GET /api/v1/resumption/briefing", Handler: res.Briefing},
		{Pattern: "GET /api/v1/power/baselines", Handler: res.Baselines},
		{Pattern: "PUT /api/v1/power/baselines/{scope}", Handler: res.PutBaseline},
		{Pattern: "POST /api/v1/power/readings", Handler: res.AddReading},
		// Work resumption: prevention plans
		{Pattern: "POST /api/v1/plans", Handler: res.SubmitPlan},
		{Pattern: "GET /api/v1/plans", Handler: res.Plans},
		{Pattern: "GET /api/v1/plans/missing", Handler: res.PlansMissing},
		{Pattern: "GET /api/v1/plans/{id}/file", Handler: res.PlanFile},
		{Pattern: "POST /api/v1/plans/{id}/review", Handler: res.ReviewPlan},

		// Notifications: inbox and webhooks
		{Pattern: "GET /api/v1/inbox", Handler: nt.Inbox},
		{Pattern: "POST /api/v1/inbox/{id}/read", Handler: nt.MarkRead},
		{Pattern: "POST /api/v1/inbox/read-all", Handler: nt.MarkAllRead},
		{Pattern: "GET /api/v1/webhooks", Handler: nt.Webhooks},
		{Pattern: "POST /api/v1/webhooks", Handler: nt.CreateWebhook},
		{Pattern: "GET /api/v1/webhooks/{id}", Handler: nt.Webhook},
		{Pattern: "PUT /api/v1/webhooks/{id}", Handler: nt.UpdateWebhook},
		{Pattern: "DELETE /api/v1/webhooks/{id}", Handler: nt.DeleteWebhook},
		{Pattern: "GET /api/v1/webhooks/{id}/deliveries", Handler: nt.Deliveries},
		{Pattern: "POST /api/v1/webhooks/{id}/test", Handler: nt.TestWebhook},

		// Problem and help tickets
		{Pattern: "POST /api/v1/tickets", Handler: tk.Create},
		{Pattern: "GET /api/v1/tickets", Handler: tk.List},
		{Pattern: "GET /api/v1/tickets/stats", Handler: tk.Stats},
		{Pattern: "POST /api/v1/tickets/sweep", Handler: tk.Sweep},
		{Pattern: "GET /api/v1/tickets/{id}", Handler: tk.Get},
		{Pattern: "POST /api/v1/tickets/{id}/transitions", Handler: tk.Transition},
		{Pattern: "POST /api/v1/tickets/{id}/comments", Handler: tk.Comment},
		{Pattern: "POST /api/v1/tickets/{id}/merge", Handler: tk.Merge},
		{Pattern: "POST /api/v1/tickets/{id}/reveal-phone", Handler: tk.RevealPhone},
		{Pattern: "POST /api/v1/tickets/{id}/photos", Handler: tk.AddPhoto},
		{Pattern: "GET /api/v1/tickets/{id}/photos/{photo}", Handler: tk.Photo},
		{Pattern: "GET /api/v1/ticket-categories", Handler: tk.Categories},
		{Pattern: "PUT /api/v1/ticket-categories/{code}", Handler: tk.SaveCategory},
		{Pattern: "GET /api/v1/ticket-policies", Handler: tk.Policies},
		{Pattern: "PUT /api/v1/ticket-policies/{category}", Handler: tk.SetPolicy},
		{Pattern: "GET /api/v1/ticket-routes", Handler: tk.Routes},
		{Pattern: "PUT /api/v1/ticket-routes", Handler: tk.SaveRoute},
		{Pattern: "DELETE /api/v1/ticket-routes/{id}", Handler: tk.DeleteRoute},
		{Pattern: "POST /api/v1/public/help", Handler: tk.PublicFile, Public: true},
		{Pattern: "POST /api/v1/public/help/status", Handler: tk.PublicStatus, Public: true},
		{Pattern: "POST /api/v1/public/help/confirm", Handler: tk.PublicConfirm, Public: true},

		// Passes: batches, review, passes, keys, revocation
		{Pattern: "POST /api/v1/pass-batches", Handler: rt.imports.H(ps.Upload)},
		{Pattern: "GET /api/v1/pass-batches", Handler: ps.ListBatches},
		{Pattern: "GET /api/v1/pass-batches/template", Handler: ps.Template},
		{Pattern: "GET /api/v1/pass-batches/{id}", Handler: ps.GetBatch},
		{Pattern: "POST /api/v1/pass-batches/{id}/approve", Handler: ps.Approve},
		{Pattern: "POST /api/v1/pass-batches/{id}/reject", Handler: ps.Reject},
		{Pattern: "GET /api/v1/pass-batches/{id}/passes", Handler: ps.BatchPasses},
		{Pattern: "POST /api/v1/pass-batches/{id}/reveal-id", Handler: ps.RevealID},
		{Pattern: "GET /api/v1/passes/jwks.json", Handler: ps.JWKS, Public: true},
		{Pattern: "GET /api/v1/passes/revocations", Handler: ps.Revocations, Public: true},
		{Pattern: "GET /api/v1/passes/stats", Handler: ps.Stats},
		{Pattern: "GET /api/v1/passes/stats.xlsx", Handler: ps.StatsXLSX},
		{Pattern: "GET /api/v1/passes", Handler: ps.ListPasses},
		{Pattern: "GET /api/v1/passes/{pid}", Handler: ps.GetPass},
		{Pattern: "GET /api/v1/passes/{pid}/qr.svg", Handler: ps.QRSVG},
		{Pattern: "GET /api/v1/passes/{pid}/qr.png", Handler: ps.QRPNG},
		{Pattern: "POST /api/v1/passes/{pid}/revoke", Handler: ps.Revoke},
		{Pattern: "POST /api/v1/enterprises/{key}/passes/revoke", Handler: ps.RevokeEnterprise},
		{Pattern: "GET /api/v1/enterprises/{key}/pass-quota", Handler: ps.Quota},
		{Pattern: "PUT /api/v1/enterprises/{key}/pass-quota", Handler: ps.SetQuota},

		// Checkpoints, transfer points, traffic control
		{Pattern: "POST /api/v1/checkpoints", Handler: cp.Create},
		{Pattern: "GET /api/v1/checkpoints", Handler: cp.List},
		{Pattern: "GET /api/v1/checkpoints/stats", Handler: cp.Stats},
		{Pattern: "GET /api/v1/checkpoints/stats.xlsx", Handler: cp.StatsXLSX},
		{Pattern: "GET /api/v1/checkpoints/{id}", Handler: cp.Get},
		{Pattern: "PUT /api/v1/checkpoints/{id}", Handler: cp.Update},
		{Pattern: "GET /api/v1/checkpoints/{id}/roster", Handler: cp.Roster},
		{Pattern: "PUT /api/v1/checkpoints/{id}/roster", Handler: cp.SetRoster},
		{Pattern: "POST /api/v1/checkpoints/{id}/scans", Handler: cp.Scan},
		{Pattern: "GET /api/v1/checkpoints/{id}/scans", Handler: cp.Scans},
		{Pattern: "POST /api/v1/checkpoints/{id}/scans/batch", Handler: cp.ScanBatch},
		{Pattern: "POST /api/v1/checkpoints/{id}/handovers", Handler: cp.LogHandover},
		{Pattern: "GET /api/v1/checkpoints/{id}/handovers", Handler: cp.Handovers},
		{Pattern: "GET /api/v1/handovers/stats", Handler: cp.HandoverStats},
		{Pattern: "GET /api/v1/traffic/measures", Handler: cp.Measures, Public: true},
		{Pattern: "POST /api/v1/traffic/measures", Handler: cp.CreateMeasure},
		{Pattern: "PUT /api/v1/traffic/measures/{id}", Handler: cp.UpdateMeasure},
		{Pattern: "GET /api/v1/traffic/notices", Handler: cp.Notices, Public: true},
		{Pattern: "POST /api/v1/traffic/notices", Handler: cp.PublishNotice},
		{Pattern: "GET /api/v1/traffic/notices/{id}", Handler: cp.Notice, Public: true},

		// Mass testing: campaigns, rounds, sites, teams
		{Pattern: "POST /api/v1/campaigns", Handler: mt.CreateCampaign},
		{Pattern: "GET /api/v1/campaigns", Handler: mt.Campaigns},
		{Pattern: "GET /api/v1/campaigns/{id}", Handler: mt.Campaign},
		{Pattern: "POST /api/v1/campaigns/{id}/rounds", Handler: mt.CreateRound},
		{Pattern: "POST /api/v1/campaigns/{id}/sites", Handler: mt.CreateSite},
		{Pattern: "GET /api/v1/campaigns/{id}/sites", Handler: mt.Sites},
		{Pattern: "POST /api/v1/campaigns/{id}/teams", Handler: mt.CreateTeam},
		{Pattern: "GET /api/v1/campaigns/{id}/teams", Handler: mt.Teams},
		{Pattern: "GET /api/v1/rounds/{id}", Handler: mt.Round},
		{Pattern: "POST /api/v1/rounds/{id}/close", Handler: mt.CloseRound},
		{Pattern: "POST /api/v1/rounds/{id}/samples", Handler: mt.Samples},
		{Pattern: "POST /api/v1/rounds/{id}/exemptions", Handler: mt.Exempt},
		{Pattern: "GET /api/v1/rounds/{id}/exemptions", Handler: mt.Exemptions},
		{Pattern: "DELETE /api/v1/rounds/{id}/exemptions/{resident}", Handler: mt.Unexempt},
		{Pattern: "GET /api/v1/rounds/{id}/coverage", Handler: mt.Coverage},
		{Pattern: "GET /api/v1/rounds/{id}/missed", Handler: mt.Missed},
		{Pattern: "GET /api/v1/rounds/{id}/compare", Handler: mt.Compare},
		// Mass testing: lab results, retests, positives
		{Pattern: "POST /api/v1/lab-results", Handler: rt.imports.H(mt.LabResults)},
		{Pattern: "POST /api/v1/lab-results/import", Handler: rt.imports.H(mt.ImportLabResults)},
		{Pattern: "GET /api/v1/lab-results/import/template", Handler: mt.LabTemplate},
		{Pattern: "GET /api/v1/retests", Handler: mt.Retests},
		{Pattern: "GET /api/v1/positives", Handler: mt.Positives},
		// Mass testing: the household register
		{Pattern: "POST /api/v1/households/import", Handler: rt.imports.H(mt.ImportHouseholds)},
		{Pattern: "GET /api/v1/households/import/template", Handler: mt.HouseholdsTemplate},
		{Pattern: "GET /api/v1/households", Handler: mt.Households},
		{Pattern: "GET /api/v1/households/{id}", Handler: mt.Household},
		{Pattern: "GET /api/v1/households/{id}/codes", Handler: mt.HouseholdCodes},
		{Pattern: "POST /api/v1/residents/{id}/reveal", Handler: mt.RevealResident},

		// Zones: decisions, proposals, exit permits, the gate snapshot, the public list
		{Pattern: "POST /api/v1/zones", Handler: zn.Create},
		{Pattern: "GET /api/v1/zones", Handler: zn.List},
		{Pattern: "GET /api/v1/zones/history", Handler: zn.History},
		{Pattern: "GET /api/v1/zones/snapshot", Handler: zn.Snapshot},
		{Pattern: "GET /api/v1/zones/{id}", Handler: zn.Get},
		{Pattern: "POST /api/v1/zones/{id}/change", Handler: zn.Change},
		{Pattern: "POST /api/v1/zones/{id}/lift", Handler: zn.Lift},
		{Pattern: "GET /api/v1/zone-proposals", Handler: zn.Proposals},
		{Pattern: "POST /api/v1/zone-proposals/{id}/confirm", Handler: zn.Confirm},
		{Pattern: "POST /api/v1/zone-proposals/{id}/decline", Handler: zn.Decline},
		{Pattern: "POST /api/v1/zone-permits", Handler: zn.IssuePermit},
		{Pattern: "GET /api/v1/zone-permits", Handler: zn.Permits},
		{Pattern: "POST /api/v1/zone-permits/{id}/cancel", Handler: zn.CancelPermit},
		{Pattern: "GET /api/v1/public/zones", Handler: zn.Public, Public: true},
		// Quarantine: central (sites, rooms, stays) and home, rules, figures
		{Pattern: "GET /api/v1/quarantine/sites", Handler: rt.quarAPI.Sites},
		{Pattern: "POST /api/v1/quarantine/sites", Handler: rt.quarAPI.CreateSite},
		{Pattern: "GET /api/v1/quarantine/sites/{id}", Handler: rt.quarAPI.Site},
		{Pattern: "PUT /api/v1/quarantine/sites/{id}", Handler: rt.quarAPI.UpdateSite},
		{Pattern: "POST /api/v1/quarantine/sites/{id}/rooms", Handler: rt.quarAPI.AddRooms},
		{Pattern: "GET /api/v1/quarantine/sites/{id}/events", Handler: rt.quarAPI.Events},
		{Pattern: "GET /api/v1/quarantine/stays", Handler: rt.quarAPI.Stays},
		{Pattern: "POST /api/v1/quarantine/stays", Handler: rt.quarAPI.Admit},
		{Pattern: "GET /api/v1/quarantine/stays/{id}", Handler: rt.quarAPI.Stay},
		{Pattern: "POST /api/v1/quarantine/stays/{id}/transfer", Handler: rt.quarAPI.Transfer},
		{Pattern: "POST /api/v1/quarantine/stays/{id}/release", Handler: rt.quarAPI.Release},
		{Pattern: "POST /api/v1/quarantine/stays/{id}/tests", Handler: rt.quarAPI.Test},
		{Pattern: "POST /api/v1/quarantine/stays/{id}/checks", Handler: rt.quarAPI.Check},
		{Pattern: "POST /api/v1/quarantine/home", Handler: rt.quarAPI.StartHome},
		{Pattern: "GET /api/v1/quarantine/home", Handler: rt.quarAPI.Home},
		{Pattern: "GET /api/v1/quarantine/home/missed", Handler: rt.quarAPI.Missed},
		{Pattern: "GET /api/v1/quarantine/rules", Handler: rt.quarAPI.Rules},
		{Pattern: "PUT /api/v1/quarantine/rules/{category}", Handler: rt.quarAPI.SetRule},
		{Pattern: "POST /api/v1/quarantine/persons/{id}/reveal", Handler: rt.quarAPI.Reveal},
		{Pattern: "GET /api/v1/quarantine/figures/central", Handler: rt.quarAPI.CentralFigures},
		{Pattern: "GET /api/v1/quarantine/figures/home", Handler: rt.quarAPI.HomeFigures},

		// Pages
		{Pattern: "GET /{$}", Handler: acct.Home, Public: true},
		{Pattern: "GET /login", Handler: acct.LoginPage, Public: true},
		{Pattern: "POST /login", Handler: acct.LoginSubmit, Public: true},
		{Pattern: "POST /logout", Handler: acct.Logout, Public: true},
		{Pattern: "POST /lang", Handler: rt.render.SetLang, Public: true},
		{Pattern: "GET /users", Handler: acct.UsersPage},
		{Pattern: "GET /users/new", Handler: acct.NewUserPage},
		{Pattern: "POST /users", Handler: acct.CreateUserSubmit},
		{Pattern: "GET /users/{username}", Handler: acct.UserPage},
		{Pattern: "POST /users/{username}/roles", Handler: acct.AddRoleSubmit},
		{Pattern: "POST /users/{username}/roles/remove", Handler: acct.RemoveRoleSubmit},
		{Pattern: "POST /users/{username}/password", Handler: acct.PasswordSubmit},
		{Pattern: "POST /users/{username}/status", Handler: acct.StatusSubmit},
		{Pattern: "GET /audit", Handler: acct.AuditPage},
		{Pattern: "GET /areas", Handler: ui.Tree},
		{Pattern: "GET /areas/{code}", Handler: ui.Node},
		{Pattern: "GET /areas/{code}/children", Handler: ui.ChildrenFragment},
		{Pattern: "GET /departments", Handler: ui.Departments},
		{Pattern: "POST /departments", Handler: ui.DepartmentCreate},
		{Pattern: "GET /departments/{code}", Handler: ui.DepartmentEdit},
		{Pattern: "POST /departments/{code}", Handler: ui.DepartmentUpdate},
		{Pattern: "GET /workgroups", Handler: ui.Workgroups},
		{Pattern: "POST /workgroups", Handler: ui.WorkgroupCreate},
		{Pattern: "GET /workgroups/{code}", Handler: ui.WorkgroupEdit},
		{Pattern: "POST /workgroups/{code}", Handler: ui.WorkgroupUpdate},
		{Pattern: "GET /enterprises", Handler: resUI.EnterpriseList},
		{Pattern: "GET /enterprises.xlsx", Handler: resUI.EnterpriseExport},
		{Pattern: "GET /enterprises/{key}", Handler: resUI.EnterpriseDetail},
		{Pattern: "GET /enterprises/{key}/report", Handler: resUI.ReportForm},
		{Pattern: "POST /enterprises/{key}/report", Handler: resUI.ReportSubmit},
		{Pattern: "POST /enterprises/{key}/plans", Handler: resUI.PlanSubmit},
		{Pattern: "POST /plans/{id}/review", Handler: resUI.PlanReview},
		{Pattern: "GET /plans/missing", Handler: resUI.PlansMissingPage},
		{Pattern: "GET /resumption", Handler: resUI.StatsPage},
		{Pattern: "GET /resumption.xlsx", Handler: resUI.StatsExport},
		{Pattern: "GET /resumption/not-resumed", Handler: resUI.NotResumedPage},
		{Pattern: "GET /resumption/not-resumed.xlsx", Handler: resUI.NotResumedExport},
		// Ticket pages
		{Pattern: "GET /tickets", Handler: tkUI.Queue},
		{Pattern: "GET /tickets.xlsx", Handler: tkUI.QueueExport},
		{Pattern: "GET /tickets/overdue", Handler: tkUI.Overdue},
		{Pattern: "GET /tickets/overdue/board", Handler: tkUI.OverdueBoard},
		{Pattern: "GET /tickets/new", Handler: tkUI.NewForm},
		{Pattern: "POST /tickets", Handler: tkUI.Create},
		{Pattern: "GET /tickets/area-options", Handler: tkUI.AreaOptions},
		{Pattern: "GET /tickets/caller", Handler: tkUI.CallerHistory},
		{Pattern: "GET /tickets/stats", Handler: tkUI.Stats},
		{Pattern: "GET /tickets/stats.xlsx", Handler: tkUI.StatsExport},
		{Pattern: "GET /tickets/{id}", Handler: tkUI.Detail},
		{Pattern: "POST /tickets/{id}/transitions", Handler: tkUI.Transition},
		{Pattern: "POST /tickets/{id}/comments", Handler: tkUI.Comment},
		{Pattern: "POST /tickets/{id}/merge", Handler: tkUI.Merge},
		{Pattern: "POST /tickets/{id}/reveal-phone", Handler: tkUI.RevealPhone},
		{Pattern: "POST /tickets/{id}/photos", Handler: tkUI.AddPhoto},
		{Pattern: "GET /ticket-settings", Handler: tkUI.Settings},
		{Pattern: "GET /ticket-settings/policies/{category}", Handler: tkUI.PolicyEdit},
		{Pattern: "POST /ticket-settings/policies/{category}", Handler: tkUI.SavePolicy},
		{Pattern: "POST /ticket-settings/routes", Handler: tkUI.SaveRoute},
		{Pattern: "POST /ticket-settings/routes/{id}/delete", Handler: tkUI.DeleteRoute},
		{Pattern: "GET /help", Handler: tkUI.HelpForm, Public: true},
		{Pattern: "POST /help", Handler: tkUI.HelpSubmit, Public: true},
		{Pattern: "GET /help/area-options", Handler: tkUI.HelpAreaOptions, Public: true},
		{Pattern: "GET /help/status", Handler: tkUI.HelpStatusForm, Public: true},
		{Pattern: "POST /help/status", Handler: tkUI.HelpStatus, Public: true},
		{Pattern: "POST /help/confirm", Handler: tkUI.HelpConfirm, Public: true},
		{Pattern: "GET /inbox", Handler: ntUI.InboxPage},
		{Pattern: "POST /inbox/{id}/read", Handler: ntUI.MarkReadSubmit},
		{Pattern: "POST /inbox/read-all", Handler: ntUI.MarkAllReadSubmit},
		{Pattern: "GET /webhooks", Handler: ntUI.WebhooksPage},
		{Pattern: "POST /webhooks", Handler: ntUI.CreateWebhookSubmit},
		{Pattern: "POST /webhooks/{id}/test", Handler: ntUI.TestWebhookSubmit},
		{Pattern: "POST /webhooks/{id}/active", Handler: ntUI.ActiveWebhookSubmit},
		{Pattern: "POST /webhooks/{id}/delete", Handler: ntUI.DeleteWebhookSubmit},
		// Pass pages
		{Pattern: "GET /pass-batches", Handler: psUI.Batches},
		{Pattern: "POST /pass-batches", Handler: rt.imports.H(psUI.UploadSubmit)},
		{Pattern: "GET /pass-batches/{id}", Handler: psUI.Batch},
		{Pattern: "POST /pass-batches/{id}/approve", Handler: psUI.ApproveSubmit},
		{Pattern: "POST /pass-batches/{id}/reject", Handler: psUI.RejectSubmit},
		{Pattern: "GET /pass-batches/{id}/cards", Handler: psUI.Cards},
		{Pattern: "POST /pass-batches/{id}/reveal", Handler: psUI.RevealSubmit},
		{Pattern: "GET /pass-batches/areas", Handler: psUI.Areas},
		// Checkpoint and traffic pages (the scan page is mounted beside them)
		{Pattern: "GET /checkpoints", Handler: cpUI.List},
		{Pattern: "POST /checkpoints", Handler: cpUI.Create},
		{Pattern: "GET /checkpoints/stats", Handler: cpUI.Stats},
		{Pattern: "GET /checkpoints/stats.xlsx", Handler: cpUI.StatsExport},
		{Pattern: "GET /checkpoints/{id}", Handler: cpUI.Detail},
		{Pattern: "POST /checkpoints/{id}", Handler: cpUI.Update},
		{Pattern: "POST /checkpoints/{id}/roster", Handler: cpUI.AddShift},
		{Pattern: "POST /checkpoints/{id}/handovers", Handler: cpUI.LogHandover},
		{Pattern: "GET /checkpoints/{id}/scans.xlsx", Handler: cpUI.ScansExport},
		{Pattern: "GET /checkpoints/{id}/scan", Handler: rt.scanUI.Page},
		{Pattern: "GET /checkpoints/sw.js", Handler: rt.scanUI.Worker, Public: true},
		{Pattern: "GET /scan", Handler: rt.scanUI.Start},
		{Pattern: "GET /traffic", Handler: cpUI.Traffic, Public: true},
		{Pattern: "GET /traffic/notices/{id}", Handler: cpUI.NoticePage, Public: true},
		{Pattern: "GET /traffic/manage", Handler: cpUI.Manage},
		{Pattern: "POST /traffic/manage/measures", Handler: cpUI.CreateMeasure},
		{Pattern: "POST /traffic/manage/measures/{id}/cancel", Handler: cpUI.CancelMeasure},
		{Pattern: "POST /traffic/manage/notices", Handler: cpUI.PublishNotice},

		// Mass testing pages
		{Pattern: "GET /testing", Handler: rt.testUI.Campaigns},
		{Pattern: "POST /testing", Handler: rt.testUI.CreateCampaignSubmit},
		{Pattern: "POST /testing/campaigns/{id}/rounds", Handler: rt.testUI.CreateRoundSubmit},
		{Pattern: "POST /testing/rounds/{id}/close", Handler: rt.testUI.CloseRoundSubmit},
		{Pattern: "POST /testing/rounds/{id}/exemptions", Handler: rt.testUI.ExemptSubmit},
		{Pattern: "GET /testing/campaigns/{id}", Handler: rt.testUI.Campaign},
		{Pattern: "GET /testing/rounds/{id}", Handler: rt.testUI.Round},
		{Pattern: "GET /testing/rounds/{id}/board", Handler: rt.testUI.RoundBoard},
		{Pattern: "GET /testing/rounds/{id}/missed", Handler: rt.testUI.Missed},
		// Mass-testing pages: lab results, retests
		{Pattern: "GET /testing/lab", Handler: rt.testUI.LabPage},
		{Pattern: "POST /testing/lab", Handler: rt.imports.H(rt.testUI.LabSubmit)},
		{Pattern: "GET /testing/retests", Handler: rt.testUI.RetestsPage},
		// Mass testing pages: the household register
		{Pattern: "GET /households", Handler: rt.testUI.Households},
		{Pattern: "POST /households/import", Handler: rt.imports.H(rt.testUI.ImportSubmit)},
		{Pattern: "GET /households/codes", Handler: rt.testUI.Codes},
		// Mass testing pages: the collector's phone page (its service worker
		// is the scan page's, served under /rounds/ to control it)
		{Pattern: "GET /collect", Handler: mtUI.CollectStart},
		{Pattern: "GET /rounds/{id}/collect", Handler: mtUI.Collect},
		{Pattern: "GET " + masstest.CollectWorkerPath, Handler: rt.scanUI.Worker, Public: true},

		// Zone pages
		{Pattern: "GET /zones", Handler: znUI.List},
		{Pattern: "POST /zones", Handler: znUI.CreateSubmit},
		{Pattern: "GET /zones/new", Handler: znUI.New},
		{Pattern: "GET /zones/history", Handler: znUI.History},
		{Pattern: "GET /zones/{id}", Handler: znUI.Detail},
		{Pattern: "POST /zones/{id}/change", Handler: znUI.ChangeSubmit},
		{Pattern: "POST /zones/{id}/lift", Handler: znUI.LiftSubmit},
		{Pattern: "GET /zones/proposals", Handler: znUI.Proposals},
		{Pattern: "POST /zones/proposals/{id}/confirm", Handler: znUI.ConfirmSubmit},
		{Pattern: "POST /zones/proposals/{id}/decline", Handler: znUI.DeclineSubmit},
		{Pattern: "GET /zones/permits", Handler: znUI.Permits},
		{Pattern: "POST /zones/permits", Handler: znUI.IssueSubmit},
		{Pattern: "POST /zones/permits/{id}/cancel", Handler: znUI.CancelSubmit},
		{Pattern: "GET /public/zones", Handler: znUI.Public, Public: true},
		// Quarantine pages: the central board, a site's rooms and forms, the
		// community worker's home-quarantine page
		{Pattern: "GET /quarantine", Handler: rt.quarUI.Central},
		{Pattern: "POST /quarantine/sites", Handler: rt.quarUI.CreateSiteSubmit},
		{Pattern: "GET /quarantine/sites/{id}", Handler: rt.quarUI.Site},
		{Pattern: "POST /quarantine/sites/{id}/rooms", Handler: rt.quarUI.AddRoomsSubmit},
		{Pattern: "POST /quarantine/sites/{id}/admit", Handler: rt.quarUI.AdmitSubmit},
		{Pattern: "POST /quarantine/stays/{id}/transfer", Handler: rt.quarUI.TransferSubmit},
		{Pattern: "POST /quarantine/stays/{id}/release", Handler: rt.quarUI.ReleaseSubmit},
		{Pattern: "GET /quarantine/home", Handler: rt.quarUI.Home},
		{Pattern: "POST /quarantine/home", Handler: rt.quarUI.StartHomeSubmit},
		{Pattern: "POST /quarantine/home/stays/{id}/check", Handler: rt.quarUI.CheckSubmit},
	}
}

func (rt *routes) mount(mux *http.ServeMux) {
	// The API takes only the query parameters its description lists.
	queries := apispec.MustQueryParameters()
	for _, r := range rt.table() {
		handler := r.Handler
		if strings.Contains(r.Pattern, " /api/v1/") {
			handler = web.StrictQuery(queries[r.Pattern], handler)
		}
		h := rt.a.H(handler)
		mux.Handle(r.Pattern, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			web.NoteRoute(req)
			h.ServeHTTP(w, req)
		}))
	}
	static := rt.render.StaticHandler()
	mux.Handle("GET /static/", http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		web.NoteRoute(req)
		static.ServeHTTP(w, req)
	}))
	mux.Handle("/", rt.a.H(rt.notFound(mux)))
}

// notFound answers paths no pattern claims; a known path with another
// method is 405 with Allow.
func (rt *routes) notFound(mux *http.ServeMux) web.Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		var allow []string
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
			if m == r.Method {
				continue
			}
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := mux.Handler(probe); pattern != "" && pattern != "/" && !strings.HasPrefix(pattern, "GET /static/") {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			p := web.Problem{Type: "about:blank", Title: "Method Not Allowed", Status: http.StatusMethodNotAllowed,
				Code: "method_not_allowed", Detail: "该地址不支持 " + r.Method + " 方法", Instance: r.URL.Path}
			web.WriteProblem(w, p)
			return nil
		}
		return errs.E(errs.NotFound, "not_found", "页面或接口不存在")
	}
}

func (rt *routes) healthz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := rt.sys.DB.Ping(ctx); err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, map[string]string{"status": "ok", "db": rt.sys.DB.Dialect.String()})
}

func (rt *routes) metricsHandler(w http.ResponseWriter, r *http.Request) error {
	rt.metrics.ServeHTTP(w, r)
	return nil
}
