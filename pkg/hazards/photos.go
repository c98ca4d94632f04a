package hazards

import (
	"context"
	"errors"

	"riskmap/pkg/riskmap"
)

// PhotoStageLabel names a photo's stage.
func PhotoStageLabel(stage string) string {
	switch stage {
	case PhotoBefore:
		return "整改前"
	case PhotoAfter:
		return "整改后"
	case PhotoReport:
		return "群众举报"
	}
	return stage
}

// AddPhoto adds a photo to an open hidden danger: stage "before" or "after"; the picture
// is checked and re-encoded (CleanPhoto), so that nothing but its pixels is kept.
func (s *Service) AddPhoto(ctx context.Context, by *riskmap.User, id int64, stage string, data []byte, rec Recorder) (*Photo, error) {
	h, err := s.writable(ctx, by, id)
	if err != nil {
		return nil, err
	}
	if stage == "" {
		stage = PhotoBefore
		if h.Status == StatusAccepted || h.Status == StatusRectifying {
			stage = PhotoAfter
		}
	}
	if stage != PhotoBefore && stage != PhotoAfter {
		return nil, riskmap.Problems{riskmap.FieldErrorf("stage", "须为 before（整改前）或 after（整改后）")}.Err()
	}
	if !h.Status.Open() {
		return nil, riskmap.Errorf(riskmap.ECONFLICT, "隐患 %s 已销号，不能再添加照片", h.Code)
	}
	b, ct, w, hgt, err := CleanPhoto(data)
	if err != nil {
		return nil, err
	}
	now := s.now()
	p := &Photo{Owner: "hazard", OwnerID: id, Stage: stage, ContentType: ct, Width: w, Height: hgt, Bytes: b, By: userName(by), At: now}
	ev := &Event{HazardID: id, Kind: EventPhoto, By: userName(by), At: now, Data: map[string]any{"stage": stage}}
	if err := s.Store.AddPhoto(ctx, p, ev, record(rec, Change{Before: h, After: h, Photo: p, Events: []*Event{ev}})); err != nil {
		return nil, err
	}
	return p, nil
}

// Photos lists a hidden danger's photos, and those of the report it came from, without
// their bytes.
func (s *Service) Photos(ctx context.Context, by *riskmap.User, id int64) ([]*Photo, error) {
	h, err := s.Get(ctx, by, id)
	if err != nil {
		return nil, err
	}
	var out []*Photo
	if h.ReportID > 0 {
		ps, err := s.Store.Photos(ctx, "report", h.ReportID)
		if err != nil {
			return nil, err
		}
		out = append(out, ps...)
	}
	ps, err := s.Store.Photos(ctx, "hazard", id)
	if err != nil {
		return nil, err
	}
	return append(out, ps...), nil
}

// ReportPhotos lists the photos of a report within the user's scope.
func (s *Service) ReportPhotos(ctx context.Context, by *riskmap.User, id int64) ([]*Photo, error) {
	if _, err := s.GetReport(ctx, by, id); err != nil {
		return nil, err
	}
	return s.Store.Photos(ctx, "report", id)
}

// Photo returns a photo with its bytes if the user may read its owner (a hidden danger or
// a report in its scope); any other is not found.
func (s *Service) Photo(ctx context.Context, by *riskmap.User, id int64) (*Photo, error) {
	notFound := riskmap.Errorf(riskmap.ENOTFOUND, "没有编号为 %d 的照片", id)
	p, err := s.Store.GetPhoto(ctx, id)
	if riskmap.ErrorCode(err) == riskmap.ENOTFOUND {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	switch p.Owner {
	case "hazard":
		_, err = s.Get(ctx, by, p.OwnerID)
	case "report":
		_, err = s.GetReport(ctx, by, p.OwnerID)
	default:
		return nil, notFound
	}
	var hidden *Hidden
	if errors.As(err, &hidden) {
		return nil, &Hidden{notFound}
	}
	if riskmap.ErrorCode(err) == riskmap.ENOTFOUND {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}
