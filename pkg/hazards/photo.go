package hazards

import (
	"bytes"
	"image"
	"image/jpeg"
	"image/png"
	"net/http"

	"golang.org/x/image/draw"

	"riskmap/pkg/riskmap"
)

// Photo limits: the upload's size, the picture's pixels (checked from its header before
// it is decoded, so that a small file that claims to be huge is refused without decoding
// it) and the longest side it is stored with.
const (
	MaxPhotoBytes  = 10 << 20
	MaxPhotoPixels = 40_000_000
	MaxPhotoSide   = 2048
	jpegQuality    = 85
)

// CleanPhoto checks an uploaded picture and re-encodes it: it must be a JPEG or a PNG by
// its content (whatever its name or declared type), at most MaxPhotoBytes and
// MaxPhotoPixels. The result is encoded anew from the pixels alone, so nothing of the
// file's metadata (EXIF with the place it was taken, the camera's serial) survives, and
// scaled down to MaxPhotoSide on its longest side. The errors are EINVALID or ETOOLARGE.
func CleanPhoto(data []byte) (out []byte, contentType string, width, height int, err error) {
	if len(data) == 0 {
		return nil, "", 0, 0, riskmap.Errorf(riskmap.EINVALID, "照片为空")
	}
	if len(data) > MaxPhotoBytes {
		return nil, "", 0, 0, riskmap.Errorf(riskmap.ETOOLARGE, "照片过大：上限 %d MB", MaxPhotoBytes>>20)
	}
	ct := http.DetectContentType(data)
	if ct != "image/jpeg" && ct != "image/png" {
		return nil, "", 0, 0, riskmap.Errorf(riskmap.EINVALID, "照片须为 JPEG 或 PNG 图片（按文件内容判断）")
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || (format != "jpeg" && format != "png") {
		return nil, "", 0, 0, riskmap.Errorf(riskmap.EINVALID, "照片无法读取：文件损坏或不是 JPEG/PNG 图片")
	}
	if cfg.Width < 1 || cfg.Height < 1 || int64(cfg.Width)*int64(cfg.Height) > MaxPhotoPixels {
		return nil, "", 0, 0, riskmap.Errorf(riskmap.EINVALID, "照片像素过多：上限 %d 百万像素", MaxPhotoPixels/1000000)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, "", 0, 0, riskmap.Errorf(riskmap.EINVALID, "照片无法读取：文件损坏或不是 JPEG/PNG 图片")
	}
	img = fit(img, MaxPhotoSide)
	b := img.Bounds()
	var buf bytes.Buffer
	if format == "png" {
		err = (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img)
		ct = "image/png"
	} else {
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: jpegQuality})
		ct = "image/jpeg"
	}
	if err != nil {
		return nil, "", 0, 0, riskmap.Errorf(riskmap.EINVALID, "照片无法读取：文件损坏或不是 JPEG/PNG 图片")
	}
	return buf.Bytes(), ct, b.Dx(), b.Dy(), nil
}

// fit scales img down so that its longest side is at most side; a smaller one is copied
// as it is (into a fresh image, so that it starts at 0,0).
func fit(img image.Image, side int) image.Image {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= side && h <= side {
		return img
	}
	if w >= h {
		h = max(1, h*side/w)
		w = side
	} else {
		w = max(1, w*side/h)
		h = side
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
	return dst
}
