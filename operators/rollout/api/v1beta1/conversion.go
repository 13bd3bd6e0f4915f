package v1beta1

// Hub marks v1beta1 as the version every other Rollout version converts
// through (controller-runtime's conversion webhook).
func (*Rollout) Hub() {}
