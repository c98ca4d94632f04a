package riskmap

// The errors every store returns for the same case, in the same words (zh-CN).

// UnitNotFound: no unit has the id.
func UnitNotFound(id int64) error { return Errorf(ENOTFOUND, "没有编号为 %d 的风险单元", id) }

// UserNotFound: no user has the name.
func UserNotFound(name string) error { return Errorf(ENOTFOUND, "没有用户 %q", clip(name)) }

// UserIDNotFound: no user has the id.
func UserIDNotFound(id int64) error { return Errorf(ENOTFOUND, "没有编号为 %d 的用户", id) }

// UserNameTaken: another user has the name.
func UserNameTaken(name string) error {
	return Errorf(ECONFLICT, "用户名 %q 已被使用", clip(name))
}

// SessionNotFound: the session has ended or never was.
func SessionNotFound() error { return Errorf(ENOTFOUND, "会话不存在或已结束") }

// TokenNotFound: no API token has the hash.
func TokenNotFound() error { return Errorf(ENOTFOUND, "API 令牌不存在") }

// TokenIDNotFound: no API token has the id.
func TokenIDNotFound(id int64) error {
	return Errorf(ENOTFOUND, "没有编号为 %d 的 API 令牌", id)
}

// NothingPublished: there is no publication yet.
func NothingPublished() error { return Errorf(ENOTFOUND, "尚未发布") }

// PublicationNotFound: no publication has the number.
func PublicationNotFound(n int64) error { return Errorf(ENOTFOUND, "没有第 %d 期发布", n) }

// RegionNotFound: no region has the code.
func RegionNotFound(code string) error {
	return Errorf(ENOTFOUND, "没有区划代码为 %q 的区域", clip(code))
}

// IdempotentAnswerNotFound: no answer is kept for the key.
func IdempotentAnswerNotFound(key string) error {
	return Errorf(ENOTFOUND, "没有保存幂等键 %q 的应答", clip(key))
}

// StaleVersion: a write named version of unit id, which is at current now.
func StaleVersion(id, version, current int64) error {
	return Errorf(EPRECONDITION, "风险单元 %d 已是第 %d 版而非第 %d 版：已被他人修改；请重新加载后再修改", id, current, version)
}

// CodeTaken is the conflict of a unit whose register number another unit that is not
// retired holds already: the same message from every store.
func CodeTaken(code string) error {
	return Errorf(ECONFLICT, "编号 %q 已被另一个未注销的风险单元使用", clip(code))
}

// CheckPublicationRange refuses a change between publications unless from < to.
func CheckPublicationRange(from, to int64) error {
	if from < 0 || from >= to {
		return Errorf(EINVALID, "第 %d 期到第 %d 期：应从较早的一期到较晚的一期", from, to)
	}
	return nil
}
