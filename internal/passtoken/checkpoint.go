package passtoken

// CheckpointInfo is a checkpoint as a pass names it and the pass module checks it: its id (as
// tokens write it, "cp"), its name and its kind.
type CheckpointInfo struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Kind string `json:"kind"`
}

// TransferPointKind is the kind of a transfer point (物资接驳点) in the
// checkpoint registry.
const TransferPointKind = "transfer_point"

// IsTransferPoint reports whether the checkpoint is a transfer point.
func (c CheckpointInfo) IsTransferPoint() bool { return c.Kind == TransferPointKind }
