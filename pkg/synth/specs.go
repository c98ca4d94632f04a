package synth

// A spec says how units of one category look: their names, where and as what geometry they
// sit, what accidents they can cause and how they are controlled. Categories of a deployment's
// catalog that have no spec get a plain generic one (see genericSpec).
//
// Templates use {slot} words filled per unit:
//
//	{city} 澄江  {cityfull} 澄江市  {town} 凤麓  {townfull} 凤麓街道  {comm} 东龙  {commfull} 东龙社区
//	{gov} the town's government (凤麓街道办事处, 右所镇人民政府)  {commgov} 东龙社区居民委员会
//	{brand} a company word  {road} {road2} {river} {mtn} {estate} {proj}
//	{n} 1–99  {m} 1–20  {cn} 一…十  {dn} DN300  {kv} 110
type spec struct {
	code string
	abbr string // register-code prefix, e.g. WHP in CJ-WHP-0001
	// weight per geometry kind: point, line, area. Zero means the category never has it.
	weight [3]float64
	tilt   int     // +1 riskier than average, -1 less risky
	lec    float64 // share assessed with LEC rather than LS
	rural  bool    // spread by area rather than by population
	family string
	points []tmpl
	lines  []tmpl
	areas  []tmpl
	// acc are accident types; the first always applies, the others now and then.
	acc []string
	// mhs is the share that is a major hazard source (重大危险源).
	mhs     float64
	radius  [2]float64 // influence radius, metres
	lineLen [2]float64 // metres
	areaR   [2]float64 // rough radius of an area, metres
	eng     []string   // category-specific engineering measures
	factors []string
	reasons []string // direct-determination reasons
}

type tmpl struct {
	name, unit, sub string
}

const (
	kPoint = 0
	kLine  = 1
	kArea  = 2
)

var specs = []spec{
	{
		code: "hazardous_chemicals", abbr: "WHP", weight: [3]float64{8, 0, 2}, tilt: 1, lec: 0.4, family: "chem",
		points: []tmpl{
			{"{city}{brand}化工有限公司液氨储罐区", "{city}{brand}化工有限公司", "生产企业"},
			{"{city}{brand}磷化工有限公司黄磷生产装置", "{city}{brand}磷化工有限公司", "生产企业"},
			{"{city}{brand}化工有限公司硫酸储罐区", "{city}{brand}化工有限公司", "生产企业"},
			{"{city}{brand}燃气有限公司液化石油气储配站", "{city}{brand}燃气有限公司", "储存仓库"},
			{"{city}{brand}商贸有限公司危险化学品仓库", "{city}{brand}商贸有限公司", "储存仓库"},
			{"中国石化{city}{comm}加油站", "中国石化销售股份有限公司云南玉溪石油分公司", "加油加气站"},
			{"{town}{brand}加油加气站", "{city}{brand}石油经营有限公司", "加油加气站"},
			{"{city}{brand}水务有限公司液氯加药间", "{city}{brand}水务有限公司", "使用单位"},
			{"{city}{brand}食品有限公司氮气储罐", "{city}{brand}食品有限公司", "使用单位"},
		},
		areas: []tmpl{
			{"{city}工业园区{brand}化工片区", "{city}工业园区管理委员会", "生产企业"},
			{"{city}{brand}磷化工有限公司罐区", "{city}{brand}磷化工有限公司", "生产企业"},
		},
		acc: []string{"fire", "other_explosion", "vessel_explosion", "poisoning_asphyxia", "burn_scald"}, mhs: 0.3,
		radius: [2]float64{300, 2000}, areaR: [2]float64{150, 500},
		eng: []string{
			"储罐区设置防火堤、围堰和事故应急池",
			"储罐设置液位、温度、压力监测和高低液位报警",
			"重点监管危险化工工艺装置实现自动化控制和安全仪表系统",
			"装卸区设置静电接地报警器和鹤管紧急切断阀",
		},
		factors: []string{
			"液氨、液化石油气等易燃有毒物质大量储存",
			"储罐及管道泄漏可能引发火灾爆炸和人员中毒",
			"周边500米范围内有居民区和学校",
			"涉及重点监管的危险化工工艺",
			"装卸作业频繁，槽车进出量大",
		},
		reasons: []string{
			"构成一级重大危险源且周边500米内有学校等人员密集场所",
			"涉及重点监管危险化工工艺且未实现自动化控制",
		},
	},
	{
		code: "fireworks", abbr: "YHBZ", weight: [3]float64{3, 0, 0}, tilt: 1, lec: 0.3, family: "chem",
		points: []tmpl{
			{"{city}{brand}烟花爆竹批发有限公司仓库", "{city}{brand}烟花爆竹批发有限公司", "批发仓库"},
			{"{comm}{brand}烟花爆竹零售点", "{city}{brand}烟花爆竹批发有限公司", "零售网点"},
			{"{townfull}{brand}烟花爆竹专营店", "{city}{brand}商贸有限公司", "零售网点"},
		},
		acc: []string{"gunpowder_explosion", "fire"}, mhs: 0.1,
		radius: [2]float64{100, 800},
		eng: []string{
			"库房设置防雷、防静电设施并每半年检测",
			"库区设置围墙和防护屏障，库房间保持安全距离",
			"零售点设置独立储存间并限量存放",
		},
		factors: []string{
			"烟火药和成品烟花大量集中储存",
			"静电、雷击或违规动火可能引发爆炸",
			"春节前后储存量大、人员进出频繁",
		},
		reasons: []string{"批发仓库外部安全距离不足且周边有居民区"},
	},
	{
		code: "non_coal_mines", abbr: "FMKS", weight: [3]float64{1, 0, 3}, tilt: 1, lec: 0.5, rural: true, family: "mine",
		points: []tmpl{
			{"{city}{brand}矿业有限公司地下矿山主井口", "{city}{brand}矿业有限公司", "地下矿山"},
			{"{city}{brand}矿业有限公司尾矿库坝体", "{city}{brand}矿业有限公司", "尾矿库"},
		},
		areas: []tmpl{
			{"{city}{brand}磷矿露天采场", "{city}{brand}矿业有限公司", "露天矿山"},
			{"{town}{brand}石料厂采石场", "{city}{brand}建材有限公司", "露天矿山"},
			{"{mtn}{brand}建筑用砂石矿", "{city}{brand}砂石有限公司", "露天矿山"},
			{"{city}{brand}矿业有限公司尾矿库", "{city}{brand}矿业有限公司", "尾矿库"},
		},
		acc:    []string{"collapse", "blasting", "object_strike", "vehicle_injury", "fall_from_height", "roof_fall", "water_inrush"},
		radius: [2]float64{200, 1500}, areaR: [2]float64{150, 500},
		eng: []string{
			"尾矿库设置坝体位移和浸润线在线监测",
			"采场设置边坡雷达监测和预警广播",
		},
		factors: []string{
			"高陡边坡失稳",
			"爆破作业飞石和早爆",
			"尾矿库坝体渗漏和溃坝",
			"雨季排水不畅",
		},
	},
	{
		code: "muck_dumps", abbr: "ZTSN", weight: [3]float64{0, 0, 2}, lec: 0.3, rural: true, family: "mine",
		areas: []tmpl{
			{"{town}{comm}渣土受纳场", "{city}{brand}环境工程有限公司", ""},
			{"{road}建筑垃圾消纳场", "{city}{brand}建筑垃圾处置有限公司", ""},
		},
		acc:    []string{"collapse", "vehicle_injury", "geohazard"},
		radius: [2]float64{100, 600}, areaR: [2]float64{80, 250},
		eng: []string{
			"堆体分层碾压并控制堆高和坡比",
			"场内设置截排水沟和沉砂池",
		},
		factors: []string{
			"堆体过高、坡度过陡易发生滑塌",
			"渣土运输车辆进出频繁",
			"雨季排水不畅导致堆体失稳",
		},
	},
	{
		code: "construction", abbr: "JSSG", weight: [3]float64{4, 0, 3}, lec: 0.5, family: "build",
		points: []tmpl{
			{"{city}{proj}项目{cn}号塔吊", "云南{brand}建设集团有限公司", "起重机械"},
			{"{estate}{cn}期工程深基坑", "云南{brand}建筑工程有限公司", "深基坑"},
			{"{city}{proj}工程高支模区域", "云南{brand}建设集团有限公司", "高支模"},
		},
		areas: []tmpl{
			{"{city}{proj}工程施工现场", "云南{brand}建设集团有限公司", "深基坑"},
			{"{estate}项目施工工地", "{city}{brand}房地产开发有限公司", "起重机械"},
		},
		acc:    []string{"fall_from_height", "collapse", "lifting_injury", "object_strike", "electric_shock", "machinery_injury"},
		radius: [2]float64{50, 300}, areaR: [2]float64{60, 150},
		eng: []string{
			"深基坑设置支护结构并开展变形监测",
			"高支模搭设前进行专项设计和验算",
			"塔吊安装限位器、力矩限制器和安全监控系统",
		},
		factors: []string{
			"深基坑支护失效可能导致坍塌",
			"高处作业和交叉作业多",
			"塔吊等起重机械倾覆",
			"临时用电不规范",
		},
	},
	{
		code: "combustible_dust", abbr: "FCSB", weight: [3]float64{2, 0, 0}, tilt: 1, lec: 0.4, family: "chem",
		points: []tmpl{
			{"{city}{brand}食品有限公司面粉车间", "{city}{brand}食品有限公司", ""},
			{"{city}{brand}木业有限公司打磨车间", "{city}{brand}木业有限公司", ""},
			{"{city}{brand}铝制品厂抛光车间", "{city}{brand}铝制品厂", ""},
			{"{city}{brand}饲料有限公司粉碎车间", "{city}{brand}饲料有限公司", ""},
		},
		acc:    []string{"other_explosion", "fire"},
		radius: [2]float64{100, 500},
		eng: []string{
			"除尘系统设置泄爆、隔爆和火花探测熄灭装置",
			"粉尘作业区电气设备符合防爆要求",
		},
		factors: []string{
			"铝镁粉尘、木粉尘等可燃性粉尘积聚",
			"除尘系统未有效防爆泄爆",
			"粉尘与火花接触可能引发爆炸",
		},
	},
	{
		code: "ammonia_refrigeration", abbr: "SAZL", weight: [3]float64{2, 0, 0}, tilt: 1, lec: 0.4, family: "chem",
		points: []tmpl{
			{"{city}{brand}冷链物流有限公司冷库", "{city}{brand}冷链物流有限公司", ""},
			{"{city}{brand}食品有限公司涉氨制冷车间", "{city}{brand}食品有限公司", ""},
			{"{town}{brand}果蔬冷藏库", "{city}{brand}农产品有限公司", ""},
		},
		acc: []string{"poisoning_asphyxia", "vessel_explosion", "other_explosion"}, mhs: 0.15,
		radius: [2]float64{200, 1000},
		eng: []string{
			"制冷机房设置氨气浓度报警并与事故排风机联锁",
			"氨储罐设置紧急泄氨器和喷淋装置",
		},
		factors: []string{
			"液氨储量大，泄漏可致人员中毒",
			"制冷机房通风不良",
			"管道阀门老化腐蚀",
		},
	},
	{
		code: "metal_smelting", abbr: "JSYL", weight: [3]float64{1, 0, 0}, tilt: 1, lec: 0.5, family: "chem",
		points: []tmpl{
			{"{city}{brand}冶金有限公司熔炼车间", "{city}{brand}冶金有限公司", ""},
			{"{city}{brand}铸造厂中频炉", "{city}{brand}铸造厂", ""},
			{"{city}{brand}铝业有限公司熔铸车间", "{city}{brand}铝业有限公司", ""},
		},
		acc:    []string{"burn_scald", "other_explosion", "lifting_injury", "fire"},
		radius: [2]float64{100, 500},
		eng: []string{
			"熔炼炉冷却水系统设置流量、温度监测和断水报警",
			"吊运熔融金属的起重机采用冶金铸造起重机",
		},
		factors: []string{
			"高温熔融金属喷溅和泄漏",
			"熔炼炉冷却水系统故障可能导致爆炸",
			"吊运熔融金属的起重机失效",
		},
	},
	{
		code: "industrial_gas", abbr: "GYMQ", weight: [3]float64{1, 0.5, 0}, tilt: 1, lec: 0.4, family: "chem",
		points: []tmpl{
			{"{city}{brand}磷化工有限公司煤气柜", "{city}{brand}磷化工有限公司", ""},
			{"{city}{brand}冶金有限公司煤气发生炉", "{city}{brand}冶金有限公司", ""},
		},
		lines: []tmpl{
			{"{city}{brand}化工有限公司厂区工业煤气管道", "{city}{brand}化工有限公司", ""},
		},
		acc: []string{"poisoning_asphyxia", "other_explosion", "fire"}, mhs: 0.2,
		radius: [2]float64{200, 1000}, lineLen: [2]float64{200, 800},
		eng: []string{
			"煤气区域设置固定式一氧化碳检测报警装置",
			"煤气管道设置可靠隔断装置和放散管",
		},
		factors: []string{
			"一氧化碳煤气泄漏导致中毒",
			"煤气管道和煤气柜泄漏爆炸",
			"检修作业时煤气置换不彻底",
		},
	},
	{
		code: "crowded_places", abbr: "RYMJ", weight: [3]float64{12, 0, 0}, family: "crowd",
		points: []tmpl{
			{"{town}{brand}购物中心", "{city}{brand}商业管理有限公司", "商场"},
			{"{city}{brand}农贸市场", "{city}{brand}市场管理有限公司", "商场"},
			{"{city}客运站", "{city}{brand}客运有限公司", "车站"},
			{"{townfull}{comm}小学", "{townfull}{comm}小学", "学校"},
			{"{city}市第{cn}中学", "{city}市第{cn}中学", "学校"},
			{"{city}市人民医院住院楼", "{city}市人民医院", "医院"},
			{"{townfull}卫生院", "{townfull}卫生院", "医院"},
			{"{townfull}敬老院", "{gov}", "养老院"},
			{"{city}{brand}康养中心", "{city}{brand}养老服务有限公司", "养老院"},
			{"{brand}KTV", "{city}{brand}娱乐有限公司", "娱乐场所"},
			{"{city}{brand}电影城", "{city}{brand}影业有限公司", "娱乐场所"},
		},
		acc:    []string{"fire", "other_injury", "collapse"},
		radius: [2]float64{50, 300},
		eng: []string{
			"设置防排烟系统并定期联动测试",
			"营业区域与仓储区域实施防火分隔",
		},
		factors: []string{
			"人员高度密集，疏散难度大",
			"可燃装修材料多，火灾荷载大",
			"电气线路老化",
			"节假日客流激增",
		},
		reasons: []string{"未经消防验收擅自投入使用且容纳人数超过500人"},
	},
	{
		code: "mass_events", abbr: "DXHD", weight: [3]float64{1, 0, 1}, lec: 0.2, family: "crowd",
		points: []tmpl{
			{"{townfull}火把节庆祝活动", "{gov}", ""},
			{"{city}{brand}音乐节", "{city}{brand}文化传媒有限公司", ""},
			{"{townfull}元宵灯会", "{gov}", ""},
		},
		areas: []tmpl{
			{"{city}{brand}音乐节活动场地", "{city}{brand}文化传媒有限公司", ""},
			{"{city}市体育中心大型活动场地", "{city}市教育体育局", ""},
		},
		acc:    []string{"other_injury", "fire", "collapse"},
		radius: [2]float64{200, 1000}, areaR: [2]float64{100, 250},
		eng: []string{
			"活动现场设置分区隔离栏和单向通行通道",
			"临时舞台和看台经专业机构检测合格后使用",
		},
		factors: []string{
			"短时间人员高度聚集，可能发生拥挤踩踏",
			"临时搭建舞台和看台",
			"周边交通组织复杂",
		},
		reasons: []string{"预计参加人数超过5000人且场地只有单一疏散通道"},
	},
	{
		code: "high_rise", abbr: "GCJZ", weight: [3]float64{6, 0, 0}, family: "crowd",
		points: []tmpl{
			{"{estate}{n}栋", "{city}{brand}物业服务有限公司", ""},
			{"{city}{brand}大厦", "{city}{brand}物业服务有限公司", ""},
			{"{brand}国际酒店主楼", "{city}{brand}酒店管理有限公司", ""},
		},
		acc:    []string{"fire", "fall_from_height", "object_strike"},
		radius: [2]float64{50, 200},
		eng: []string{
			"设置消防电梯、防烟楼梯间和室内消火栓系统",
			"外墙保温材料采用不燃材料",
		},
		factors: []string{
			"建筑高度大，灭火救援困难",
			"消防设施维护保养不到位",
			"外墙保温材料可燃",
		},
	},
	{
		code: "nine_small", abbr: "JXCS", weight: [3]float64{20, 0, 0}, tilt: -1, family: "crowd",
		points: []tmpl{
			{"{comm}{brand}饭店", "{comm}{brand}饭店", "小餐饮"},
			{"{brand}米线馆", "{brand}米线馆", "小餐饮"},
			{"{brand}客栈", "{brand}客栈", "小旅馆"},
			{"{brand}便利店", "{brand}便利店", "小商店"},
			{"{brand}网吧", "{brand}网吧", "小网吧"},
			{"{brand}美发店", "{brand}美发店", "小美容美发"},
		},
		acc:    []string{"fire", "electric_shock", "poisoning_asphyxia"},
		radius: [2]float64{20, 100},
		eng: []string{
			"安装独立式感烟火灾探测报警器",
			"使用瓶装液化石油气的场所安装燃气泄漏报警和自动切断装置",
		},
		factors: []string{
			"场所面积小、疏散条件差",
			"使用瓶装液化石油气",
			"违规住人和电动自行车充电",
			"电气线路私拉乱接",
		},
	},
	{
		code: "amusement", abbr: "YLSS", weight: [3]float64{2, 0, 1}, family: "crowd",
		points: []tmpl{
			{"{town}{brand}游乐园过山车", "{city}{brand}旅游开发有限公司", ""},
			{"{town}{brand}游乐场摩天轮", "{city}{brand}游乐有限公司", ""},
		},
		areas: []tmpl{
			{"{city}{brand}水上乐园", "{city}{brand}旅游开发有限公司", ""},
			{"{town}{brand}游乐场", "{city}{brand}游乐有限公司", ""},
		},
		acc:    []string{"machinery_injury", "fall_from_height", "drowning"},
		radius: [2]float64{50, 300}, areaR: [2]float64{60, 150},
		eng: []string{
			"游乐设施设置安全压杠、安全带双重保护",
			"水上项目设置救生观察台和救生设备",
		},
		factors: []string{
			"游乐设施高速运行，机械故障可致人员伤亡",
			"水上项目存在淹溺风险",
			"节假日游客量大",
		},
	},
	{
		code: "lifeline_gas", abbr: "RQ", weight: [3]float64{3, 6, 0}, tilt: 1, lec: 0.2, family: "pipe",
		points: []tmpl{
			{"{city}{brand}燃气有限公司门站", "{city}{brand}燃气有限公司", "燃气场站"},
			{"{comm}燃气调压站", "{city}{brand}燃气有限公司", "燃气场站"},
			{"{town}{brand}液化气供应站", "{city}{brand}燃气有限公司", "燃气场站"},
		},
		lines: []tmpl{
			{"{road}中压燃气管线", "{city}{brand}燃气有限公司", "燃气管线"},
			{"{road}{dn}燃气主干管", "{city}{brand}燃气有限公司", "燃气管线"},
			{"{estate}小区燃气庭院管网", "{city}{brand}燃气有限公司", "燃气管线"},
		},
		acc:    []string{"fire", "other_explosion", "poisoning_asphyxia"},
		radius: [2]float64{50, 500}, lineLen: [2]float64{400, 2500},
		eng: []string{
			"场站设置可燃气体泄漏报警和紧急切断装置",
			"燃气管道阴极保护并定期检测",
			"地下管线相邻密闭空间安装可燃气体监测",
		},
		factors: []string{
			"燃气管道腐蚀老化",
			"第三方施工破坏",
			"燃气泄漏积聚于密闭空间引发爆炸",
		},
	},
	{
		code: "lifeline_water", abbr: "GS", weight: [3]float64{2, 4, 0}, lec: 0.2, family: "pipe",
		points: []tmpl{
			{"{city}市{comm}水厂", "{city}{brand}水务有限公司", ""},
			{"{comm}供水加压泵站", "{city}{brand}水务有限公司", ""},
		},
		lines: []tmpl{
			{"{road}{dn}供水主管", "{city}{brand}水务有限公司", ""},
			{"{city}市{comm}水厂输水管线", "{city}{brand}水务有限公司", ""},
		},
		acc:    []string{"collapse", "drowning", "poisoning_asphyxia", "electric_shock"},
		radius: [2]float64{50, 300}, lineLen: [2]float64{500, 3000},
		eng: []string{
			"水厂加氯间设置氯气泄漏报警和吸收装置",
			"主干管关键节点设置压力监测",
		},
		factors: []string{
			"供水管道爆管可能引发路面塌陷",
			"水厂液氯等消毒剂泄漏",
			"水源地受污染",
		},
	},
	{
		code: "lifeline_drainage", abbr: "PS", weight: [3]float64{2, 4, 0}, tilt: -1, lec: 0.2, family: "pipe",
		points: []tmpl{
			{"{city}市污水处理厂", "{city}{brand}水务有限公司", ""},
			{"{comm}污水提升泵站", "{city}{brand}水务有限公司", ""},
		},
		lines: []tmpl{
			{"{road}雨水管渠", "{city}市住房和城乡建设局", ""},
			{"{road}{dn}污水主管", "{city}{brand}水务有限公司", ""},
		},
		acc:    []string{"poisoning_asphyxia", "drowning", "collapse"},
		radius: [2]float64{30, 200}, lineLen: [2]float64{400, 2500},
		eng: []string{
			"检查井加装防坠落网",
			"雨污分流改造并提高排水标准",
		},
		factors: []string{
			"排水能力不足导致内涝",
			"污水井内硫化氢积聚",
			"管道淤堵和破损",
		},
	},
	{
		code: "lifeline_heating", abbr: "GR", weight: [3]float64{0.5, 0.5, 0}, tilt: -1, lec: 0.3, family: "pipe",
		points: []tmpl{
			{"{brand}国际酒店集中供热锅炉房", "{city}{brand}酒店管理有限公司", ""},
			{"{city}{brand}温泉度假村热水站", "{city}{brand}旅游开发有限公司", ""},
		},
		lines: []tmpl{
			{"{brand}度假区热水供热管线", "{city}{brand}旅游开发有限公司", ""},
		},
		acc:    []string{"boiler_explosion", "burn_scald"},
		radius: [2]float64{30, 200}, lineLen: [2]float64{200, 1000},
		eng: []string{"锅炉设置超压、低水位报警和联锁保护"},
		factors: []string{
			"锅炉超压运行",
			"热水管道破裂烫伤",
		},
	},
	{
		code: "lifeline_power", abbr: "DL", weight: [3]float64{2, 3, 0}, lec: 0.2, family: "pipe",
		points: []tmpl{
			{"{kv}千伏{comm}变电站", "云南电网有限责任公司玉溪{city}供电局", ""},
			{"{comm}{cn}号配电房", "云南电网有限责任公司玉溪{city}供电局", ""},
		},
		lines: []tmpl{
			{"{kv}千伏{comm}线输电线路", "云南电网有限责任公司玉溪{city}供电局", ""},
			{"{road}10千伏电缆线路", "云南电网有限责任公司玉溪{city}供电局", ""},
		},
		acc:    []string{"electric_shock", "fire"},
		radius: [2]float64{50, 300}, lineLen: [2]float64{600, 4000},
		eng: []string{
			"变电站设置防火墙和自动灭火装置",
			"线路通道清理树障并设置防外破警示",
		},
		factors: []string{
			"输电线路遭外力破坏",
			"变电站设备故障引发火灾",
			"雷击和山火导致线路跳闸",
		},
	},
	{
		code: "utility_tunnel", abbr: "ZHGL", weight: [3]float64{0, 1, 0}, lec: 0.3, family: "pipe",
		lines: []tmpl{
			{"{road}地下综合管廊", "{city}{brand}管廊运营管理有限公司", ""},
		},
		acc:    []string{"fire", "poisoning_asphyxia", "drowning"},
		radius: [2]float64{30, 200}, lineLen: [2]float64{500, 2000},
		eng: []string{
			"管廊设置环境与设备监控、火灾报警和自动灭火系统",
			"燃气舱设置独立通风和可燃气体检测",
		},
		factors: []string{
			"管廊内可燃气体积聚",
			"电缆火灾",
			"地下水渗入",
		},
	},
	{
		code: "roads", abbr: "JTDL", weight: [3]float64{1, 6, 0}, lec: 0.2, family: "traffic",
		points: []tmpl{
			{"{road}与{road2}交叉口", "{city}市交通运输局", "事故多发路段"},
			{"{road}{comm}段急弯", "{city}市交通运输局", "事故多发路段"},
		},
		lines: []tmpl{
			{"呈澄高速{town}段事故多发路段", "云南{brand}高速公路管理有限公司", "事故多发路段"},
			{"{road}{comm}段临水临崖路段", "{city}市公路管理段", "临水临崖路段"},
			{"{road}{town}段", "{city}市交通运输局", "事故多发路段"},
			{"{mtn}盘山公路", "{city}市公路管理段", "临水临崖路段"},
		},
		acc:    []string{"vehicle_injury", "drowning", "fall_from_height"},
		radius: [2]float64{50, 200}, lineLen: [2]float64{800, 5000},
		eng: []string{
			"临水临崖路段设置混凝土护栏",
			"设置区间测速和电子警察",
		},
		factors: []string{
			"急弯陡坡、视距不良",
			"临水临崖缺少防护设施",
			"车流量大、超速超载多发",
			"雨雾天气路面湿滑",
		},
	},
	{
		code: "public_transit", abbr: "GJ", weight: [3]float64{3, 1, 0}, tilt: -1, family: "traffic",
		points: []tmpl{
			{"{city}公交{town}首末站", "{city}{brand}公共交通有限公司", ""},
			{"{city}公交停保场", "{city}{brand}公共交通有限公司", ""},
			{"{city}{brand}充电站（公交）", "{city}{brand}公共交通有限公司", ""},
		},
		lines: []tmpl{
			{"{city}公交{m}路", "{city}{brand}公共交通有限公司", ""},
		},
		acc:    []string{"vehicle_injury", "fire"},
		radius: [2]float64{30, 150}, lineLen: [2]float64{2000, 6000},
		eng: []string{
			"公交车辆安装驾驶员防护隔离设施",
			"车辆安装自动灭火装置",
		},
		factors: []string{
			"公交车辆自燃",
			"驾驶员疲劳驾驶",
			"场站内人员车辆混行",
		},
	},
	{
		code: "rail_transit", abbr: "GDJT", weight: [3]float64{0.3, 0.5, 0}, lec: 0.3, family: "traffic",
		points: []tmpl{
			{"{city}城际铁路站（规划）", "{city}城际铁路建设指挥部", ""},
		},
		lines: []tmpl{
			{"昆明至{city}城际铁路{town}段", "{city}城际铁路建设指挥部", ""},
		},
		acc:    []string{"vehicle_injury", "collapse", "electric_shock"},
		radius: [2]float64{50, 300}, lineLen: [2]float64{2000, 6000},
		eng: []string{"设置线路防护栅栏和周界入侵报警"},
		factors: []string{
			"施工期间深基坑和隧道作业风险",
			"运营期间大客流",
		},
	},
	{
		code: "hazmat_transport", abbr: "LKYW", weight: [3]float64{2, 1.5, 0}, tilt: 1, lec: 0.3, family: "traffic",
		points: []tmpl{
			{"{city}{brand}危险货物运输有限公司停车场", "{city}{brand}危险货物运输有限公司", ""},
			{"{city}{brand}旅游客运有限公司车辆停放场", "{city}{brand}旅游客运有限公司", ""},
		},
		lines: []tmpl{
			{"危险化学品运输车辆通行路线（{road}）", "{city}市交通运输局", ""},
			{"{city}至昆明班线客车线路{town}段", "{city}{brand}客运有限公司", ""},
		},
		acc:    []string{"vehicle_injury", "fire", "other_explosion", "poisoning_asphyxia"},
		radius: [2]float64{100, 1000}, lineLen: [2]float64{1500, 5000},
		eng: []string{
			"危货车辆安装卫星定位和视频监控装置",
			"停车场设置消防设施和防泄漏围堰",
		},
		factors: []string{
			"危险货物运输车辆泄漏和爆炸",
			"客运车辆载客量大，事故后果严重",
			"驾驶员疲劳驾驶和超速",
		},
	},
	{
		code: "bridges_tunnels", abbr: "QLSD", weight: [3]float64{4, 1, 0}, lec: 0.2, family: "traffic",
		points: []tmpl{
			{"{river}{road}大桥", "{city}市公路管理段", ""},
			{"{comm}人行天桥", "{city}市住房和城乡建设局", ""},
			{"{river}{comm}漫水桥", "{gov}", ""},
		},
		lines: []tmpl{
			{"{mtn}隧道", "云南{brand}高速公路管理有限公司", ""},
		},
		acc:    []string{"collapse", "vehicle_injury", "fall_from_height", "drowning"},
		radius: [2]float64{50, 300}, lineLen: [2]float64{300, 1500},
		eng: []string{
			"桥梁设置结构健康监测系统",
			"隧道设置通风、照明和火灾报警系统",
			"设置限高限重设施",
		},
		factors: []string{
			"桥梁结构老化、承载力下降",
			"超载车辆通行",
			"隧道内火灾烟气扩散",
		},
	},
	{
		code: "old_buildings", abbr: "LJFW", weight: [3]float64{7, 0, 1.5}, family: "build",
		points: []tmpl{
			{"{commfull}{n}号老旧住宅楼", "{city}{brand}物业服务有限公司", ""},
			{"{town}老街{n}号D级危房", "{commgov}", ""},
			{"{commfull}自建房", "{commgov}", ""},
		},
		areas: []tmpl{
			{"{town}{comm}城中村片区", "{gov}", ""},
			{"{town}老街历史街区", "{gov}", ""},
		},
		acc:    []string{"collapse", "fire", "electric_shock"},
		radius: [2]float64{20, 100}, areaR: [2]float64{60, 180},
		eng: []string{
			"对D级危房设置围挡和警示标识",
			"实施结构加固改造",
			"更换老化电气线路",
		},
		factors: []string{
			"房屋建成年代久远，结构老化",
			"砖木结构耐火等级低",
			"违规加层改建",
		},
	},
	{
		code: "billboards", abbr: "HWGG", weight: [3]float64{6, 0, 0}, tilt: -1, family: "build",
		points: []tmpl{
			{"{road}{brand}户外广告牌", "{city}{brand}广告传媒有限公司", ""},
			{"{city}{brand}大厦楼顶广告牌", "{city}{brand}广告传媒有限公司", ""},
		},
		acc:    []string{"object_strike", "collapse", "fall_from_height"},
		radius: [2]float64{20, 60},
		eng:    []string{"牌体钢结构除锈防腐并加固连接件"},
		factors: []string{
			"广告牌体锈蚀，大风天气可能坠落",
			"设置在人流密集处",
		},
	},
	{
		code: "special_equipment", abbr: "TZSB", weight: [3]float64{10, 0, 0}, tilt: -1, lec: 0.3, family: "equip",
		points: []tmpl{
			{"{estate}{n}号楼电梯", "{city}{brand}物业服务有限公司", ""},
			{"{city}{brand}化工有限公司压力容器", "{city}{brand}化工有限公司", ""},
			{"{brand}国际酒店锅炉", "{city}{brand}酒店管理有限公司", ""},
			{"{city}{brand}物流有限公司门式起重机", "{city}{brand}物流有限公司", ""},
			{"{town}{brand}气瓶充装站", "{city}{brand}气体有限公司", ""},
		},
		acc:    []string{"machinery_injury", "fall_from_height", "vessel_explosion", "boiler_explosion", "lifting_injury"},
		radius: [2]float64{20, 100},
		factors: []string{
			"设备超期未检",
			"安全附件失效",
			"维保不到位",
		},
	},
	{
		code: "waterlogging", abbr: "QXHL", weight: [3]float64{5, 3, 3}, lec: 0.2, rural: true, family: "nature",
		points: []tmpl{
			{"{river}{comm}段内涝点", "{gov}", "内涝点"},
			{"{road}下穿通道内涝点", "{city}市住房和城乡建设局", "内涝点"},
			{"{comm}低洼地内涝点", "{gov}", "内涝点"},
		},
		lines: []tmpl{
			{"{river}{town}段河道", "{city}市水利局", "河道"},
			{"{mtn}山洪沟", "{gov}", "山洪沟"},
		},
		areas: []tmpl{
			{"{comm}低洼易涝区", "{gov}", "内涝点"},
			{"{river}{comm}段洪水淹没区", "{city}市水利局", "河道"},
		},
		acc:    []string{"flood", "drowning", "electric_shock", "collapse"},
		radius: [2]float64{50, 500}, lineLen: [2]float64{800, 4000}, areaR: [2]float64{100, 400},
		eng: []string{
			"实施排水管网提标改造和泵站建设",
			"河道清淤疏浚和堤防加固",
		},
		factors: []string{
			"短时强降雨易形成积水",
			"地势低洼、排水能力不足",
			"下穿通道积水可致车辆被困",
		},
		reasons: []string{"近五年发生过致人死亡的内涝积水事件"},
	},
	{
		code: "earthquake", abbr: "DZ", weight: [3]float64{0, 1.5, 0.5}, lec: 0.1, rural: true, family: "nature",
		lines: []tmpl{
			{"小江断裂带{town}段", "{city}市防震减灾局", "活动断层"},
			{"{mtn}断裂", "{city}市防震减灾局", "活动断层"},
		},
		areas: []tmpl{
			{"{townfull}抗震设防薄弱区", "{gov}", ""},
		},
		acc:    []string{"earthquake_damage", "collapse", "geohazard"},
		radius: [2]float64{500, 3000}, lineLen: [2]float64{2000, 8000}, areaR: [2]float64{200, 600},
		eng: []string{
			"重要建筑按抗震设防标准加固",
			"设置地震监测台站和预警终端",
		},
		factors: []string{
			"小江断裂带附近地震烈度高",
			"老旧建筑抗震能力不足",
			"地震可能诱发滑坡崩塌等次生灾害",
		},
	},
	{
		code: "geological", abbr: "DZZH", weight: [3]float64{5, 1, 3}, tilt: 1, lec: 0.1, rural: true, family: "nature",
		points: []tmpl{
			{"{comm}{n}组滑坡隐患点", "{gov}", "滑坡"},
			{"{mtn}崩塌隐患点", "{gov}", "崩塌"},
			{"{road}边坡崩塌隐患点", "{city}市公路管理段", "崩塌"},
		},
		lines: []tmpl{
			{"{comm}{river}泥石流沟", "{gov}", "泥石流"},
		},
		areas: []tmpl{
			{"{comm}滑坡体", "{gov}", "滑坡"},
			{"{mtn}不稳定斜坡", "{gov}", "滑坡"},
		},
		acc:    []string{"geohazard", "collapse"},
		radius: [2]float64{100, 800}, lineLen: [2]float64{500, 2500}, areaR: [2]float64{60, 300},
		eng: []string{
			"滑坡体设置裂缝计和GNSS位移监测",
			"实施抗滑桩、挡土墙等工程治理",
		},
		factors: []string{
			"坡体存在裂缝和变形迹象",
			"强降雨可能诱发滑坡",
			"坡脚下方有居民住户",
		},
		reasons: []string{"威胁人数超过100人且尚未完成工程治理"},
	},
	{
		code: "forest_fire", abbr: "SLHZ", weight: [3]float64{1, 0, 3}, lec: 0.1, rural: true, family: "nature",
		points: []tmpl{
			{"{mtn}森林防火瞭望塔", "{city}市林业和草原局", ""},
		},
		areas: []tmpl{
			{"{mtn}国有林区", "{city}市林业和草原局", ""},
			{"{comm}集体林区", "{gov}", ""},
			{"{mtn}森林防火重点区域", "{city}市林业和草原局", ""},
		},
		acc:    []string{"wildfire", "fire"},
		radius: [2]float64{500, 3000}, areaR: [2]float64{300, 900},
		eng: []string{
			"建设林区防火隔离带和蓄水池",
			"安装森林火险视频监控",
		},
		factors: []string{
			"林区植被茂密、可燃物载量大",
			"春季干燥少雨、风力大",
			"林区周边祭祀用火和农事用火多",
		},
	},
}
