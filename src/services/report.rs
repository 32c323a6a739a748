//! The annual report (法治政府建设工作情况报告) drafted from the annual summary: its title,
//! headings, paragraphs and per-village appendix. The dashboard's paragraph is built from
//! the same sentences, so the two never disagree.

use chrono::NaiveDate;

use super::summary::{annual_summary, AnnualSummary, VillageLine};
use super::{Actor, ServiceError, ServiceResult};
use crate::domain::activity::{AudienceGroup, Place};
use crate::domain::category::LEGAL_LITERATE_TARGET;
use crate::domain::dates::Period;
pub use crate::domain::report::{format_hours, Appendix, AppendixRow, Block, ReportDraft};
use crate::domain::session::SessionKind;
use crate::sheets::report_doc::report_document;
use crate::store::{settings, Db};

/// 一、二、三… for the “一是…二是…” enumerations and the part headings.
fn ordinal(n: usize) -> &'static str {
    const ORDINALS: [&str; 10] = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"];
    ORDINALS.get(n).copied().unwrap_or("十")
}

fn count(map: &std::collections::BTreeMap<String, i64>, code: &str) -> i64 {
    map.get(code).copied().unwrap_or(0)
}

/// “共开展学法活动19场次，其中党委会专题学法3次、会前学法12次、法治讲座4场，参学263人次，
/// 累计学时341.5小时，出勤率92.3%。”
pub fn sessions_sentence(s: &AnnualSummary) -> String {
    // Kinds that did not happen are left out rather than written as “0次”.
    let kinds: Vec<String> = [
        (SessionKind::Committee, "次"),
        (SessionKind::PreMeeting, "次"),
        (SessionKind::Lecture, "场"),
        (SessionKind::Training, "期"),
        (SessionKind::LiterateTraining, "期"),
        (SessionKind::Collective, "次"),
        (SessionKind::Other, "次"),
    ]
    .iter()
    .map(|(kind, unit)| {
        (
            kind.label_zh(),
            count(&s.sessions_by_kind, kind.code()),
            unit,
        )
    })
    .filter(|(_, n, _)| *n > 0)
    .map(|(label, n, unit)| format!("{label}{n}{unit}"))
    .collect();
    let kinds = if kinds.is_empty() {
        String::new()
    } else {
        format!("，其中{}", kinds.join("、"))
    };
    // Without a recorded mark there is no rate, not a rate of 0 %.
    let rate = if s.attendance_recorded > 0 {
        format!("，出勤率{}%", s.attendance_rate)
    } else {
        String::new()
    };
    format!(
        "共开展学法活动{}场次{kinds}，参学{}人次，累计学时{}小时{rate}。",
        s.sessions_held,
        s.attendance_person_times,
        format_hours(s.study_hours_total),
    )
}

/// “干部自学20人、226次，自学学时412.5学时，集中学习与自学合计754学时。” (nothing when no
/// self-study was recorded).
pub fn self_study_sentence(s: &AnnualSummary) -> Option<String> {
    (s.self_study_records > 0).then(|| {
        format!(
            "干部自学{}人、{}次，自学学时{}学时，集中学习与自学合计{}学时。",
            s.self_study_people,
            s.self_study_records,
            format_hours(s.self_study_hours),
            format_hours(s.study_hours_total + s.self_study_hours)
        )
    })
}

fn places_reached(s: &AnnualSummary) -> Vec<&'static str> {
    Place::ALL
        .iter()
        .filter(|p| count(&s.activities_by_place, p.code()) > 0)
        .map(|p| p.label_zh())
        .collect()
}

fn groups_reached(s: &AnnualSummary) -> Vec<AudienceGroup> {
    AudienceGroup::ALL
        .iter()
        .copied()
        .filter(|g| count(&s.audience_by_group, g.code()) > 0)
        .collect()
}

/// “全年发放普法宣传资料2360份，开展普法活动40场、受众3423人次，覆盖法律七进场所4类，面向
/// 青少年、…开展针对性宣传。”
pub fn outreach_sentence(s: &AnnualSummary) -> String {
    let mut text = format!(
        "全年发放普法宣传资料{}份，开展普法活动{}场、受众{}人次，覆盖法律七进场所{}类",
        s.materials_distributed,
        s.activities_held,
        s.activity_audience_total,
        places_reached(s).len()
    );
    let groups: Vec<&str> = groups_reached(s).iter().map(|g| g.label_zh()).collect();
    if !groups.is_empty() {
        text.push_str(&format!("，面向{}开展针对性宣传", groups.join("、")));
    }
    text.push('。');
    text
}

/// “新培养法律明白人12人，现有法律明白人30人，龙凤社区、场镇社区尚未达到每村不少于3名的要求。”
pub fn literate_sentence(s: &AnnualSummary) -> String {
    let mut text = format!(
        "新培养法律明白人{}人，现有法律明白人{}人",
        s.legal_literates_new, s.legal_literates_on_roster
    );
    if s.villages_below_literate_target.is_empty() {
        // One village's view speaks of that village, not of every village.
        let who = if s.village.is_some() {
            ""
        } else {
            "各村(社区)均"
        };
        text.push_str(&format!(
            "，{who}达到每村不少于{LEGAL_LITERATE_TARGET}名的要求。"
        ));
    } else {
        text.push_str(&format!(
            "，{}尚未达到每村不少于{LEGAL_LITERATE_TARGET}名的要求。",
            s.villages_below_literate_target.join("、")
        ));
    }
    text
}

fn subject(s: &AnnualSummary) -> String {
    s.village.clone().unwrap_or_else(|| "全镇".into())
}

/// The dashboard's draft paragraph: the report's figures in one paragraph.
pub fn report_paragraph(s: &AnnualSummary) -> String {
    let mut text = format!("{}年，{}{}", s.year, subject(s), sessions_sentence(s));
    if let Some(self_study) = self_study_sentence(s) {
        text.push_str(&self_study);
    }
    text.push_str(&outreach_sentence(s));
    text.push_str(&literate_sentence(s));
    text
}

/// “3月15日”
fn month_day(date: NaiveDate) -> String {
    use chrono::Datelike;
    format!("{}月{}日", date.month(), date.day())
}

fn first_part(s: &AnnualSummary, we: &str) -> Vec<Block> {
    let mut blocks = vec![Block::Heading1(
        "一、党政主要负责人履行推进法治建设第一责任人职责情况".into(),
    )];
    if s.committee_meetings.is_empty() {
        blocks.push(Block::Placeholder(format!(
            "本年度普法台账中没有登记党委会专题学法。请补充{we}党委研究部署法治建设、主要负责人带头学法的情况。"
        )));
        return blocks;
    }
    let meetings: Vec<String> = s
        .committee_meetings
        .iter()
        .map(|m| {
            let topic = m
                .topic
                .trim_start_matches("党委会专题学法")
                .trim_start_matches(['：', ':']);
            format!("{}专题学习“{}”", month_day(m.date), topic)
        })
        .collect();
    blocks.push(Block::Paragraph(format!(
        "{we}党委把学法作为党委会的固定议题，全年召开党委会专题学法{}次：{}。党政主要负责人带头学法、带头讲法，督促领导班子成员落实学法制度，推动形成各负其责、齐抓共管的普法工作格局。",
        s.committee_meetings.len(),
        meetings.join("；")
    )));
    blocks
}

fn cadre_study(s: &AnnualSummary) -> Vec<Block> {
    let mut text = format!("{}年，{}", s.year, sessions_sentence(s));
    let pre_meeting = count(&s.sessions_by_kind, "pre_meeting");
    if pre_meeting > 0 {
        text.push_str(&format!(
            "坚持会前学法制度，全年会前学法{pre_meeting}次，做到学法常态化。"
        ));
    }
    match self_study_sentence(s) {
        Some(self_study) => text.push_str(&format!(
            "在集中学习之外，鼓励干部结合岗位自学，{self_study}"
        )),
        None => text.push_str("本年度普法台账中没有登记干部自学。"),
    }
    if s.people_below_requirement > 0 {
        text.push_str(&format!(
            "对照年度学法要求，仍有{}人的学法次数或学时未达标，需督促补学。",
            s.people_below_requirement
        ));
    } else {
        text.push_str("对照年度学法要求，登记在册的人员均已达标。");
    }
    vec![
        Block::Heading2("（一）领导干部和机关工作人员学法".into()),
        Block::Paragraph(text),
    ]
}

fn literates(s: &AnnualSummary) -> Vec<Block> {
    vec![
        Block::Heading2("（二）法律明白人培养".into()),
        Block::Paragraph(format!(
            "围绕“一村(社区)至少{LEGAL_LITERATE_TARGET}名法律明白人”的目标，全年{}",
            literate_sentence(s)
        )),
    ]
}

/// The audience groups as sentences: “面向青少年开展宣传310人次，面向外出务工人员…”.
fn groups_text(s: &AnnualSummary) -> String {
    let groups = groups_reached(s);
    if groups.is_empty() {
        return "活动台账中没有登记受众对象，请补充面向重点人群的宣传情况。".into();
    }
    let parts: Vec<String> = groups
        .iter()
        .map(|g| {
            format!(
                "面向{}宣传{}人次",
                g.label_zh(),
                count(&s.audience_by_group, g.code())
            )
        })
        .collect();
    let missing: Vec<&str> = [
        AudienceGroup::Youth,
        AudienceGroup::MigrantWorkers,
        AudienceGroup::RemoteVillages,
        AudienceGroup::Enterprises,
    ]
    .iter()
    .filter(|g| !groups.contains(g))
    .map(|g| g.label_zh())
    .collect();
    let mut text = format!("突出重点人群，{}，努力消除普法盲区。", parts.join("，"));
    if !missing.is_empty() {
        text.push_str(&format!(
            "面向{}的宣传尚未登记，需要加强。",
            missing.join("、")
        ));
    }
    text
}

fn outreach(s: &AnnualSummary) -> Vec<Block> {
    let mut text = outreach_sentence(s);
    let places = places_reached(s);
    if !places.is_empty() {
        text.push_str(&format!(
            "深入开展“法律七进”，活动走进{}。",
            places
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join("、")
        ));
    }
    text.push_str(&groups_text(s));
    vec![
        Block::Heading2("（三）群众普法宣传".into()),
        Block::Paragraph(text),
    ]
}

/// 三、存在的问题和不足: one “一是…二是…” item per shortfall the figures show.
fn shortfalls(s: &AnnualSummary, we: &str) -> Vec<Block> {
    let mut items: Vec<String> = Vec::new();
    let quiet: Vec<String> = s
        .villages_without_activity_by_quarter
        .iter()
        .filter(|(_, villages)| !villages.is_empty())
        .map(|(quarter, villages)| {
            let q = quarter.trim_start_matches('Q');
            let n: usize = q.parse().unwrap_or(1);
            // One village's report names the quarters only: the village is its subject.
            if s.village.is_some() {
                format!("第{}季度", ordinal(n - 1))
            } else {
                format!("第{}季度{}", ordinal(n - 1), villages.join("、"))
            }
        })
        .collect();
    if !quiet.is_empty() {
        items.push(format!(
            "普法工作开展不够经常，{}没有开展学法或普法活动",
            quiet.join("，")
        ));
    }
    if !s.villages_below_literate_target.is_empty() {
        items.push(format!(
            "法律明白人培养不够均衡，{}尚未达到每村不少于{LEGAL_LITERATE_TARGET}名的要求",
            s.villages_below_literate_target.join("、")
        ));
    }
    if s.people_below_requirement > 0 {
        items.push(format!(
            "干部学法的自觉性还需提高，{}人未完成年度学法要求",
            s.people_below_requirement
        ));
    }
    if s.self_study_records == 0 {
        items.push("干部自学缺少登记和督促，自学情况无法量化".into());
    }
    let mut blocks = vec![Block::Heading1("三、存在的问题和不足".into())];
    if items.is_empty() {
        blocks.push(Block::Placeholder(format!(
            "{}年普法台账统计的各项指标均已完成。请结合工作实际补充{we}法治建设中存在的问题。",
            s.year
        )));
    } else {
        let text: Vec<String> = items
            .iter()
            .enumerate()
            .map(|(i, item)| format!("{}是{item}", ordinal(i)))
            .collect();
        blocks.push(Block::Paragraph(format!(
            "{}年，{we}法治建设工作取得了一定成效，但对照要求仍有差距：{}。",
            s.year,
            text.join("；")
        )));
    }
    blocks
}

fn appendix_row(line: &VillageLine) -> AppendixRow {
    AppendixRow {
        name: line.name.clone(),
        sessions: line.sessions_held,
        person_times: line.attendance_person_times,
        hours: line.study_hours,
        copies: line.materials,
        activities: line.activities,
        legal_literates: line.legal_literates,
        self_study_hours: line.self_study_hours,
    }
}

fn appendix(s: &AnnualSummary) -> Appendix {
    let rows: Vec<AppendixRow> = s
        .village_lines
        .iter()
        .chain(s.township_line.iter())
        .map(appendix_row)
        .collect();
    let total = AppendixRow {
        name: "合计".into(),
        sessions: rows.iter().map(|r| r.sessions).sum(),
        person_times: rows.iter().map(|r| r.person_times).sum(),
        hours: rows.iter().fold(0.0, |t, r| t + r.hours),
        copies: rows.iter().map(|r| r.copies).sum(),
        activities: rows.iter().map(|r| r.activities).sum(),
        legal_literates: rows.iter().map(|r| r.legal_literates).sum(),
        self_study_hours: rows.iter().fold(0.0, |t, r| t + r.self_study_hours),
    };
    Appendix {
        title: format!("{}年各村(社区)普法工作情况统计表", s.year),
        headers: vec![
            "村(社区)",
            "学法活动(场)",
            "参学人次",
            "学时",
            "发放资料(份)",
            "普法活动(场)",
            "法律明白人(人)",
            "自学学时",
        ],
        rows,
        total,
        note: "注：学法活动、发放资料、普法活动按举办的村(社区)统计，镇级活动计入“镇机关（镇级）”；参学人次、学时、法律明白人、自学学时按人员所属村(社区)统计。".into(),
    }
}

/// The draft report of the summary's year. `township` names the township (the title's
/// subject); `as_of` is the day the figures were counted.
pub fn draft_report(s: &AnnualSummary, township: &str, as_of: NaiveDate) -> ReportDraft {
    let (title_lines, we) = match &s.village {
        Some(village) => (
            vec![
                format!("{township}{village}{}年度", s.year),
                "普法工作情况报告".to_string(),
            ],
            "本村(社区)".to_string(),
        ),
        None => (
            vec![
                format!("{township}{}年度", s.year),
                "法治政府建设工作情况报告".to_string(),
            ],
            "我镇".to_string(),
        ),
    };
    let mut blocks = vec![Block::Paragraph(format!(
        "{}年，{}深入学习贯彻习近平法治思想，落实“谁执法谁普法”普法责任制，把干部学法、法律明白人培养和群众普法宣传作为法治建设的基础工作。现将有关情况报告如下：",
        s.year,
        s.village.clone().unwrap_or_else(|| township.to_string())
    ))];
    blocks.extend(first_part(s, &we));
    blocks.push(Block::Heading1("二、工作举措及成效".into()));
    blocks.extend(cadre_study(s));
    blocks.extend(literates(s));
    blocks.extend(outreach(s));
    blocks.extend(shortfalls(s, &we));
    blocks.push(Block::Heading1("四、下一步工作打算".into()));
    blocks.push(Block::Placeholder(format!(
        "（请填写）{}年，{we}将继续……（此段为占位文字，请结合上述问题和本地实际修改。）",
        s.year + 1
    )));
    ReportDraft {
        title: title_lines.concat(),
        title_lines,
        subtitle: format!("（草稿 · 数据截至{}）", as_of.format("%Y年%-m月%-d日")),
        blocks,
        appendix: appendix(s),
    }
}

/// The setting that names the township in the report's title.
pub const TOWNSHIP_NAME: &str = "township_name";

/// The township's name, or “××镇” for the township to fill in.
pub async fn township_name(db: &Db) -> ServiceResult<String> {
    Ok(settings::get(db, TOWNSHIP_NAME)
        .await?
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "××镇".into()))
}

/// Names the township (administrators; the demo sets it too).
pub async fn set_township_name(db: &Db, actor: &Actor, name: &str) -> ServiceResult<()> {
    actor.require(actor.role.can_administer())?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 30 {
        let mut errors = crate::domain::person::FieldErrors::new();
        errors.insert("township_name".into(), "乡镇名称请填写1至30个字".into());
        return Err(ServiceError::Invalid(errors));
    }
    Ok(settings::set(db, TOWNSHIP_NAME, name).await?)
}

/// The draft report of a year as a Word document: file name and bytes. A clerk's is their
/// village's.
pub async fn annual_report(
    db: &Db,
    actor: &Actor,
    year: i32,
    village_id: Option<i64>,
    today: NaiveDate,
) -> ServiceResult<(String, Vec<u8>)> {
    let s = annual_summary(db, actor, year, village_id, today).await?;
    let period = Period::of(year, None).ok_or(ServiceError::NotFound)?;
    let as_of = period.as_of(today);
    let draft = draft_report(&s, &township_name(db).await?, as_of);
    let bytes = report_document(&draft).map_err(|e| ServiceError::Refused(e.to_string()))?;
    Ok((format!("{}（草稿）.docx", draft.title), bytes))
}
