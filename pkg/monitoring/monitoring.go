// Package monitoring owns the rules of monitoring and early warning (监测预警, issue 17):
// monitoring points (监测点) attached to risk units, their readings, the four warning
// levels and the alarms (报警) that thresholds raise, the kind taxonomy of the config
// section "monitoring", the evaluator that turns readings into alarm events, and the parser
// of readings from outside. It is pure: no store, no HTTP; the adapters persist its events.
package monitoring

import "riskmap/pkg/riskmap"

// Level is a warning level (预警级别): blue, yellow, orange or red, the colours of the
// four grades; "" is normal.
type Level string

// Warning levels, lowest first.
const (
	LevelNormal Level = ""
	LevelBlue   Level = "blue"
	LevelYellow Level = "yellow"
	LevelOrange Level = "orange"
	LevelRed    Level = "red"
)

// Levels are the warning levels, lowest first.
var Levels = []Level{LevelBlue, LevelYellow, LevelOrange, LevelRed}

// Rank is 1 (blue) to 4 (red); 0 for normal or an unknown level.
func (l Level) Rank() int {
	switch l {
	case LevelBlue:
		return 1
	case LevelYellow:
		return 2
	case LevelOrange:
		return 3
	case LevelRed:
		return 4
	}
	return 0
}

// Valid reports whether l is one of the four warning levels.
func (l Level) Valid() bool { return l.Rank() > 0 }

// Higher reports whether l is above o.
func (l Level) Higher(o Level) bool { return l.Rank() > o.Rank() }

// Next is the level one above l (red stays red; normal becomes blue).
func (l Level) Next() Level { return Levels[min(l.Rank(), 3)] }

// Label is the level's Chinese name: 蓝色预警 … 红色预警; "正常" for normal.
func (l Level) Label() string {
	switch l {
	case LevelBlue:
		return "蓝色预警"
	case LevelYellow:
		return "黄色预警"
	case LevelOrange:
		return "橙色预警"
	case LevelRed:
		return "红色预警"
	}
	return "正常"
}

// text is the level's name as an argument of a message, in the message's language.
func (l Level) text() riskmap.Text {
	switch l {
	case LevelBlue:
		return riskmap.Textf("蓝色预警")
	case LevelYellow:
		return riskmap.Textf("黄色预警")
	case LevelOrange:
		return riskmap.Textf("橙色预警")
	case LevelRed:
		return riskmap.Textf("红色预警")
	}
	return riskmap.Textf("正常")
}

// Grade is the grade of the level's colour (red → 重大 …); "" for normal.
func (l Level) Grade() riskmap.Grade {
	if !l.Valid() {
		return ""
	}
	return riskmap.Grade(l)
}

// maxLevel is the higher of a and b.
func maxLevel(a, b Level) Level {
	if b.Higher(a) {
		return b
	}
	return a
}
