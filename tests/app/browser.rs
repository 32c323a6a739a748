//! A real browser (headless Chromium through chromedriver, driven by fantoccini) against
//! the real server: an admin logs in, creates a village and a person, finds them.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use pufa::domain::Role;

use crate::helpers::{say, Backend, TestApp, PASSWORD};

/// A Chrome DevTools command through chromedriver (`goog/cdp/execute`): how a test sees a
/// page as printed.
#[derive(Debug)]
struct DevTools(serde_json::Value);

impl fantoccini::wd::WebDriverCompatibleCommand for DevTools {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.0.to_string()))
    }
}

async fn emulate_media(b: &Client, media: &str) -> Step {
    b.issue_cmd(DevTools(serde_json::json!({
        "cmd": "Emulation.setEmulatedMedia",
        "params": { "media": media },
    })))
    .await
    .map(|_| ())
}

/// The smallest rendered type size of the page's chart text, in CSS pixels.
async fn smallest_chart_text(b: &Client) -> Result<f64, fantoccini::error::CmdError> {
    let size = b
        .execute(
            "var least = 1000; document.querySelectorAll('svg.chart text').forEach(function (t) {\
               if (!t.getClientRects().length) { return; }\
               var scale = t.ownerSVGElement.getScreenCTM().a;\
               least = Math.min(least, parseFloat(getComputedStyle(t).fontSize) * scale); });\
             return least;",
            vec![],
        )
        .await?;
    Ok(size.as_f64().unwrap_or(0.0))
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn find_program(names: &[&str]) -> Option<String> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
            .map(|p| p.display().to_string())
    })
}

/// chromedriver and Chromium, or `None` (skipped) unless PUFA_REQUIRE_BROWSER=1.
fn browser_programs(test: &str) -> Option<(String, String)> {
    let driver = find_program(&["chromedriver"]);
    let chromium = find_program(&["chromium", "chromium-browser", "google-chrome"]);
    match (driver, chromium) {
        (Some(d), Some(c)) => Some((d, c)),
        _ if std::env::var("PUFA_REQUIRE_BROWSER").as_deref() == Ok("1") => {
            panic!("PUFA_REQUIRE_BROWSER=1 but chromium and chromedriver are not installed")
        }
        _ => {
            say(&format!(
                "SKIPPED {test}: install chromium and chromium-driver to run it"
            ));
            None
        }
    }
}

async fn start_browser(chromium: &str, driver: &str) -> (Killed, Client) {
    start_browser_downloading_to(chromium, driver, &std::env::temp_dir()).await
}

async fn start_browser_downloading_to(
    chromium: &str,
    driver: &str,
    downloads: &std::path::Path,
) -> (Killed, Client) {
    let port = free_port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let guard = Killed(child);
    let capabilities = serde_json::json!({
        "goog:chromeOptions": {
            "binary": chromium,
            "prefs": {
                "download.default_directory": downloads.display().to_string(),
                "download.prompt_for_download": false
            },
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run", "--window-size=1280,900"]
        }
    });
    let capabilities = match capabilities {
        serde_json::Value::Object(map) => map,
        _ => unreachable!(),
    };
    let mut last_error = None;
    for _ in 0..50 {
        match ClientBuilder::rustls()
            .expect("tls")
            .capabilities(capabilities.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => return (guard, client),
            Err(e) => last_error = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("chromedriver did not answer: {last_error:?}");
}

/// Serves the app on a free port in the background; returns its base URL.
async fn serve(app: &TestApp) -> String {
    let port = free_port();
    let figment = rocket::Config::figment()
        .merge(("port", port))
        .merge(("address", "127.0.0.1"))
        .merge(("log_level", "off"))
        .merge(("secret_key", {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode(pufa::random_bytes::<64>())
        }));
    let rocket = pufa::web::build(figment, app.db.clone());
    tokio::spawn(async move {
        let _ = rocket.launch().await;
    });
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return base;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the app did not start on {base}");
}

#[rocket::async_test]
async fn admin_creates_village_and_person_in_the_browser() {
    let test = "admin_creates_village_and_person_in_the_browser";
    let Some((driver, chromium)) = browser_programs(test) else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite, test)
        .await
        .expect("sqlite is always there");
    app.user("admin", Role::Admin, None).await;
    let base = serve(&app).await;
    let (_driver, browser) = start_browser(&chromium, &driver).await;
    let result = drive(&browser, &base).await;
    let _ = browser.close().await;
    result.expect("the admin's story in the browser");
}

/// With PUFA_SCREENSHOT_DIR set, keeps a PNG of the page for a person to look at.
async fn keep_screenshot(b: &Client, name: &str) -> Result<(), fantoccini::error::CmdError> {
    if let Some(dir) = std::env::var_os("PUFA_SCREENSHOT_DIR") {
        let png = b.screenshot().await?;
        let _ = std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), png);
    }
    Ok(())
}

type Step = Result<(), fantoccini::error::CmdError>;

/// Logs in on the login page as `user` (the test password) and waits for the next page.
async fn log_in(b: &Client, base: &str, user: &str) -> Step {
    b.goto(&format!("{base}/login")).await?;
    type_into(b, "input[name=username]", user).await?;
    type_into(b, "input[name=password]", PASSWORD).await?;
    click(b, "button[type=submit].primary").await?;
    wait_for(b, "h1").await
}

async fn type_into(b: &Client, css: &str, text: &str) -> Step {
    b.find(Locator::Css(css)).await?.send_keys(text).await
}

async fn click(b: &Client, css: &str) -> Step {
    b.find(Locator::Css(css)).await?.click().await
}

async fn wait_for(b: &Client, css: &str) -> Step {
    b.wait().for_element(Locator::Css(css)).await.map(|_| ())
}

/// Waits until an element with this text is on the page: after a form posts, the previous
/// page's element of the same kind may still be there for a moment.
async fn wait_for_text(b: &Client, css: &str, text: &str) -> Step {
    for _ in 0..100 {
        if let Ok(element) = b.find(Locator::Css(css)).await {
            if element.text().await.is_ok_and(|t| t.contains(text)) {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no {css} containing {text:?} appeared");
}

async fn drive(b: &Client, base: &str) -> Step {
    b.goto(&format!("{base}/people")).await?;
    let url = b.current_url().await?;
    assert!(url.as_str().contains("/login"), "anonymous goes to login");
    keep_screenshot(b, "login").await?;
    type_into(b, "input[name=username]", "admin").await?;
    type_into(b, "input[name=password]", PASSWORD).await?;
    click(b, "button[type=submit].primary").await?;
    wait_for(b, "h1").await?;
    let url = b.current_url().await?;
    assert!(
        url.path().starts_with("/people"),
        "back where they wanted to go"
    );

    b.goto(&format!("{base}/villages/new")).await?;
    type_into(b, "input[name=name]", "龙凤村").await?;
    click(b, "button.primary").await?;
    wait_for(b, "p.flash-success").await?;
    assert!(b.source().await?.contains("龙凤村"));

    b.goto(&format!("{base}/people/new")).await?;
    type_into(b, "input[name=name]", "王明白").await?;
    b.find(Locator::Css("select[name=village_id]"))
        .await?
        .select_by_label("龙凤村")
        .await?;
    type_into(b, "input[name=phone]", "13812345678").await?;
    // A category's dates show once it is ticked; 认定日期 is offered as today.
    let since = "input[name='categories[legal_literate].since']";
    assert!(!b.find(Locator::Css(since)).await?.is_displayed().await?);
    click(b, "input[name='categories[legal_literate].held']").await?;
    let since_field = b.find(Locator::Css(since)).await?;
    assert!(since_field.is_displayed().await?);
    assert_eq!(
        since_field.prop("value").await?.unwrap_or_default(),
        chrono::Local::now().date_naive().to_string()
    );
    // An old 15-digit ID number is refused with a message next to the field; the rest of
    // what was typed (the ticked category included) stays on the form.
    type_into(b, "input[name=id_number]", "511921800101123").await?;
    click(b, "button.primary").await?;
    wait_for(b, "span.field-error").await?;
    keep_screenshot(b, "person_form_error").await?;
    let error = b
        .find(Locator::Css("span.field-error"))
        .await?
        .text()
        .await?;
    assert!(error.contains("18位"), "{error}");
    let border = b
        .execute(
            "return getComputedStyle(document.querySelector('input[name=id_number]')).borderTopColor;",
            vec![],
        )
        .await?;
    assert_eq!(border.as_str(), Some("rgb(179, 38, 30)"), "outlined red");
    b.find(Locator::Css("input[name=id_number]"))
        .await?
        .clear()
        .await?;
    click(b, "button.primary").await?;
    wait_for(b, "p.flash-success").await?;
    keep_screenshot(b, "person_detail").await?;

    b.goto(&format!("{base}/people")).await?;
    b.find(Locator::Css("select[name=category]"))
        .await?
        .select_by_value("legal_literate")
        .await?;
    click(b, "form.filters button").await?;
    wait_for(b, "table").await?;
    keep_screenshot(b, "people_list").await?;
    let table = b.find(Locator::Css("table")).await?.text().await?;
    assert!(
        table.contains("王明白") && table.contains("龙凤村") && table.contains("法律明白人"),
        "{table}"
    );
    record_activity_with_material(b, base).await
}

/// The admin adds a material, records an outreach activity handing it out, and sees the
/// activity in the ledger and the material flagged 库存不足 (no receipt was recorded).
async fn record_activity_with_material(b: &Client, base: &str) -> Step {
    b.goto(&format!("{base}/materials/new")).await?;
    type_into(b, "input[name=title]", "民法典宣传手册").await?;
    click(b, "button.primary").await?;
    wait_for(b, "p.flash-success").await?;

    b.goto(&format!("{base}/activities/new")).await?;
    type_into(b, "input[name=topic]", "民法典进农村").await?;
    b.find(Locator::Css("select[name=village_id]"))
        .await?
        .select_by_label("龙凤村")
        .await?;
    b.find(Locator::Css("select[name=place]"))
        .await?
        .select_by_value("village")
        .await?;
    click(b, "input[name=audience_groups][value=remote_villages]").await?;
    click(b, "input[name=audience_groups][value=villagers]").await?;
    type_into(b, "input[name=audience_count]", "85").await?;
    b.find(Locator::Css("select[name='materials[0].material_id']"))
        .await?
        .select_by_label("民法典宣传手册（份）")
        .await?;
    type_into(b, "input[name='materials[0].quantity']", "120").await?;
    keep_screenshot(b, "activity_form").await?;
    click(b, "button.primary").await?;
    wait_for(b, "p.flash-success").await?;
    let detail = b.source().await?;
    assert!(detail.contains("边远山村群众、群众"), "groups shown");
    assert!(detail.contains("120份"), "linked distribution shown");

    b.goto(&format!("{base}/activities")).await?;
    wait_for(b, "table").await?;
    keep_screenshot(b, "activities_list").await?;
    let table = b.find(Locator::Css("table")).await?.text().await?;
    assert!(
        table.contains("民法典进农村") && table.contains("85"),
        "{table}"
    );

    b.goto(&format!("{base}/materials")).await?;
    wait_for(b, ".warning-card").await?;
    keep_screenshot(b, "materials_list").await?;
    let warning = b.find(Locator::Css(".warning-card")).await?.text().await?;
    assert!(warning.contains("缺 120份"), "{warning}");

    b.goto(&format!("{base}/villages")).await?;
    click(b, "table a").await?;
    wait_for(b, ".figures").await?;
    keep_screenshot(b, "village_page").await?;
    upload_a_ledger(b, base).await
}

/// The admin uploads a materials ledger with one wrong row, reads the preview, and imports
/// the correct rows.
async fn upload_a_ledger(b: &Client, base: &str) -> Step {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("龙凤村资料发放.csv");
    std::fs::write(
        &path,
        "龙凤村2021年普法资料发放登记表\n发放日期,村(社区),资料名称,数量\n2021-03-05,龙凤村,民法典宣传手册,200份\n2021-13-05,龙凤村,宪法读本,50\n合计,,,250\n",
    )
    .expect("write the ledger");
    // An empty file is refused with a message that the page shows (the upload script once
    // loaded the form again and lost it).
    let empty = dir.path().join("空文件.csv");
    std::fs::write(&empty, "").expect("write the empty file");
    b.goto(&format!("{base}/imports")).await?;
    b.find(Locator::Css("input[type=file]"))
        .await?
        .send_keys(&empty.display().to_string())
        .await?;
    click(b, "#upload-form button.primary").await?;
    wait_for_text(b, "p.flash-error", "请选择要上传的文件").await?;
    b.goto(&format!("{base}/imports")).await?;
    b.find(Locator::Css("input[type=file]"))
        .await?
        .send_keys(&path.display().to_string())
        .await?;
    click(b, "#upload-form button.primary").await?;
    wait_for(b, ".figures").await?;
    // The preview says the upload arrived (its one-time message survives the script too).
    wait_for_text(b, "p.flash-success", "文件已上传").await?;
    keep_screenshot(b, "import_preview").await?;
    let page = b.source().await?;
    assert!(
        page.contains("普法资料发放登记表") && page.contains("“2021-13-05” 不是有效日期"),
        "preview shows the error"
    );
    click(b, "input[name=allow_partial]").await?;
    click(b, "form[action$='/commit'] button.primary").await?;
    wait_for_text(b, "p.flash-success", "导入完成").await?;
    keep_screenshot(b, "import_batch").await?;
    Ok(())
}

#[rocket::async_test]
async fn organizer_schedules_a_series_and_takes_attendance_in_the_browser() {
    let test = "organizer_schedules_a_series_and_takes_attendance_in_the_browser";
    let Some((driver, chromium)) = browser_programs(test) else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite, test)
        .await
        .expect("sqlite is always there");
    app.user("organizer", Role::Organizer, None).await;
    let input = pufa::domain::person::PersonInput {
        name: "刘镇干".into(),
        post: "党政办主任".into(),
        categories: vec![("township_cadre".into(), String::new(), String::new())],
        ..Default::default()
    };
    let cadre =
        pufa::services::people::create_person(&app.db, &pufa::services::Actor::operator(), &input)
            .await
            .expect("cadre");
    let base = serve(&app).await;
    let (_driver, browser) = start_browser(&chromium, &driver).await;
    let result = schedule_and_take_attendance(&browser, &base, cadre).await;
    let _ = browser.close().await;
    result.expect("the organizer's story in the browser");
}

async fn set_value(b: &Client, css: &str, value: &str) -> Step {
    // Date and time inputs take typed text in the browser's locale; set the value itself.
    let script = "document.querySelector(arguments[0]).value = arguments[1];";
    b.execute(script, vec![css.into(), value.into()])
        .await
        .map(|_| ())
}

async fn schedule_and_take_attendance(b: &Client, base: &str, cadre: i64) -> Step {
    log_in(b, base, "organizer").await?;

    b.goto(&format!("{base}/sessions/new")).await?;
    type_into(
        b,
        "input[name=topic]",
        "会前学法：学习《中华人民共和国宪法》",
    )
    .await?;
    set_value(b, "input[name=date]", "2021-01-04").await?;
    set_value(b, "input[name=start_time]", "08:30").await?;
    set_value(b, "input[name=end_time]", "09:30").await?;
    type_into(b, "input[name=venue]", "镇政府三楼会议室").await?;
    // Only the fields of the chosen repeat type show.
    let shown =
        |css: &'static str| async move { b.find(Locator::Css(css)).await?.is_displayed().await };
    assert!(!shown("select[name=nth]").await? && !shown("input[name=until]").await?);
    click(b, "input[name=repeat][value=monthly_nth]").await?;
    assert!(shown("select[name=nth]").await? && shown("input[name=until]").await?);
    assert!(!shown("input[name=month_day]").await? && !shown("input[name=weekdays]").await?);
    b.find(Locator::Css("select[name=nth]"))
        .await?
        .select_by_value("1")
        .await?;
    b.find(Locator::Css("select[name=nth_weekday]"))
        .await?
        .select_by_value("1")
        .await?;
    set_value(b, "input[name=until]", "2021-12-31").await?;
    keep_screenshot(b, "session_form").await?;
    click(b, "button.primary").await?;
    wait_for(b, "p.flash-success").await?;
    let flash = b
        .find(Locator::Css("p.flash-success"))
        .await?
        .text()
        .await?;
    assert!(flash.contains("12 次"), "{flash}");

    // The first occurrence: invite the township cadres, mark attendance in the grid.
    click(b, ".buttons a[href$='/invite']").await?;
    wait_for(b, "input[name=by_group]").await?;
    // A person ticked, then a search for another name: the tick is carried, not lost.
    let invite_page = b.current_url().await?;
    click(b, &format!("input[name=person_ids][value='{cadre}']")).await?;
    type_into(b, "input[name=q]", "查无此人").await?;
    click(b, "form.filters button").await?;
    wait_for_text(b, "#invite-people", "另有 1 人已勾选").await?;
    let carried = format!("#invite-people input[type=hidden][name=person_ids][value='{cadre}']");
    assert!(
        b.find(Locator::Css(&carried)).await.is_ok(),
        "the ticked person is carried through the search"
    );
    b.goto(invite_page.as_str()).await?;
    wait_for(b, "input[name=by_group]").await?;
    click(b, "input[name=by_group]").await?;
    b.find(Locator::Css("select[name=category]"))
        .await?
        .select_by_value("township_cadre")
        .await?;
    click(b, "button.primary").await?;
    wait_for_text(b, "p.flash-success", "已加入参学名单").await?;
    wait_for(b, "table.grid").await?;
    click(b, "input[name='rows[0].status'][value=late]").await?;
    b.find(Locator::Css("input[name='rows[0].hours']"))
        .await?
        .send_keys("0.5")
        .await?;
    click(b, "#grid button.primary").await?;
    wait_for_text(b, "p.flash-success", "考勤已保存").await?;
    keep_screenshot(b, "session_detail").await?;
    let history = b.source().await?;
    assert!(
        history.contains("刘镇干：— → 迟到 0.5学时"),
        "the change is in the history"
    );

    // On a phone (390 px) the grid is a card per person: every mark and the hours are on
    // the screen, not behind a sideways scroll.
    b.set_window_size(390, 844).await?;
    b.refresh().await?;
    wait_for(b, "table.grid").await?;
    b.execute(
        "document.querySelector('table.grid').scrollIntoView();",
        vec![],
    )
    .await?;
    keep_screenshot(b, "session_detail_phone").await?;
    let overflow = b
        .execute(
            "var width = window.innerWidth; var out = [];\
             document.querySelectorAll('table.grid input[type=radio], table.grid input[name$=hours]')\
               .forEach(function (e) { var r = e.getBoundingClientRect();\
                 if (r.right > width || r.width < 12) { out.push(e.name + ' ' + r.right + ' ' + r.width); } });\
             if (document.documentElement.scrollWidth > width) { out.push('page ' + document.documentElement.scrollWidth + ' of ' + width);\
               document.querySelectorAll('body *').forEach(function (e) { var r = e.getBoundingClientRect();\
                 if (r.right > width + 1) { out.push(e.tagName + '.' + e.className + ' ' + Math.round(r.right)); } }); }\
             return out.join('; ');",
            vec![],
        )
        .await?;
    assert_eq!(
        overflow.as_str(),
        Some(""),
        "controls off the phone's screen: {overflow}"
    );
    b.set_window_size(1366, 900).await?;

    b.goto(&format!("{base}/people/{cadre}?year=2021")).await?;
    wait_for(b, ".study-summary").await?;
    keep_screenshot(b, "person_study").await?;
    let summary = b.find(Locator::Css(".study-summary")).await?.text().await?;
    assert!(summary.contains("累计学时 0.5"), "{summary}");

    b.goto(&format!("{base}/sessions/calendar?year=2021&month=1"))
        .await?;
    wait_for(b, "table.calendar").await?;
    keep_screenshot(b, "session_calendar").await?;
    let calendar = b.find(Locator::Css("table.calendar")).await?.text().await?;
    assert!(calendar.contains("08:30 会前学法"), "{calendar}");

    // The session list on a phone: each row's link and status are on the screen.
    b.set_window_size(390, 844).await?;
    b.goto(&format!("{base}/sessions?year=2021")).await?;
    wait_for(b, "table.cards").await?;
    keep_screenshot(b, "session_list_phone").await?;
    let hidden = b
        .execute(
            "var width = window.innerWidth; var out = [];\
             document.querySelectorAll('table.cards td a, table.cards .status').forEach(function (e) {\
               var r = e.getBoundingClientRect(); if (r.right > width || r.left < 0) { out.push(e.textContent); } });\
             if (document.documentElement.scrollWidth > width) { out.push('page ' + document.documentElement.scrollWidth); }\
             return out.join('; ');",
            vec![],
        )
        .await?;
    assert_eq!(
        hidden.as_str(),
        Some(""),
        "off the phone's screen: {hidden}"
    );
    b.set_window_size(1366, 900).await?;
    Ok(())
}

#[rocket::async_test]
async fn dashboard_draws_charts_and_the_workbook_downloads() {
    let test = "dashboard_draws_charts_and_the_workbook_downloads";
    let Some((driver, chromium)) = browser_programs(test) else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite, test)
        .await
        .expect("sqlite is always there");
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("imports/demo");
    pufa::services::demo::load_demo(&app.db, &demo)
        .await
        .expect("demo township");
    app.user("leader", Role::Viewer, None).await;
    let base = serve(&app).await;
    let downloads = tempfile::tempdir().expect("download dir");
    let (_driver, browser) =
        start_browser_downloading_to(&chromium, &driver, downloads.path()).await;
    let result = look_at_dashboard(&browser, &base, downloads.path()).await;
    let _ = browser.close().await;
    result.expect("the township leader's story in the browser");
}

async fn look_at_dashboard(b: &Client, base: &str, downloads: &std::path::Path) -> Step {
    log_in(b, base, "leader").await?;
    b.goto(&format!("{base}/?year=2021")).await?;
    wait_for(b, "svg.chart").await?;
    keep_screenshot(b, "dashboard").await?;
    let charts = b.find_all(Locator::Css("svg.chart")).await?;
    assert_eq!(charts.len(), 4, "four charts");
    let bars = b.find_all(Locator::Css("svg.chart rect.bar")).await?;
    assert!(bars.len() >= 24, "bars are drawn: {}", bars.len());
    let paragraph = b.find(Locator::Css("#paragraph")).await?.text().await?;
    assert!(
        paragraph.contains("党委会专题学法3次") && paragraph.contains("新培养法律明白人12人"),
        "{paragraph}"
    );
    let grid = b.find(Locator::Css("table.coverage")).await?.text().await?;
    assert!(grid.contains("龙凤社区"), "{grid}");
    let least = smallest_chart_text(b).await?;
    assert!(least >= 12.0, "chart text of {least:.1} px on a desk");
    // Printed on A4 landscape (273 mm between the margins, 1032 CSS px): no menu, filters or
    // buttons, and the coverage grid fits the page.
    b.set_window_size(1032, 900).await?;
    emulate_media(b, "print").await?;
    for hidden in [
        "header.topbar",
        "form.filters",
        "#copy-paragraph",
        "footer.footer",
    ] {
        assert!(
            !b.find(Locator::Css(hidden)).await?.is_displayed().await?,
            "{hidden} is printed"
        );
    }
    let widths = b
        .execute(
            "var t = document.querySelector('table.coverage');\
             return [t.getBoundingClientRect().right, document.documentElement.clientWidth, document.documentElement.scrollWidth];",
            vec![],
        )
        .await?;
    let (right, page, scroll) = (
        widths[0].as_f64().unwrap_or(f64::MAX),
        widths[1].as_f64().unwrap_or(0.0),
        widths[2].as_f64().unwrap_or(f64::MAX),
    );
    assert!(
        right <= page && scroll <= page,
        "coverage grid {right} px, page {scroll} px of {page}"
    );
    keep_screenshot(b, "dashboard_print").await?;
    emulate_media(b, "").await?;
    b.set_window_size(1366, 900).await?;
    click(b, "a[href^='/export']").await?;
    // The browser saves the workbook; wait for it to finish.
    let mut saved = None;
    for _ in 0..100 {
        saved = std::fs::read_dir(downloads).ok().and_then(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .find(|p| p.extension().is_some_and(|x| x == "xlsx"))
        });
        if saved.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let saved = saved.expect("the workbook was downloaded");
    assert!(saved
        .file_name()
        .unwrap()
        .to_string_lossy()
        .contains("2021年普法工作汇总"));
    let bytes = std::fs::read(&saved).expect("read the download");
    let book = calamine::Xlsx::new(std::io::Cursor::new(bytes)).expect("a workbook");
    use calamine::Reader;
    assert_eq!(book.sheet_names()[0], "总览");
    Ok(())
}

/// Every main page, on a phone (390 × 844), as the organizer and as a village clerk: no
/// page is wider than the screen.
#[rocket::async_test]
async fn every_main_page_fits_a_phone() {
    let test = "every_main_page_fits_a_phone";
    let Some((driver, chromium)) = browser_programs(test) else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite, test)
        .await
        .expect("sqlite is always there");
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("imports/demo");
    pufa::services::demo::load_demo(&app.db, &demo)
        .await
        .expect("demo township");
    let village = pufa::store::villages::find_by_name(&app.db, "龙凤村")
        .await
        .unwrap()
        .unwrap()
        .id;
    app.user("organizer", Role::Organizer, None).await;
    app.user("clerk", Role::Clerk, Some(village)).await;
    // A village cadre with sessions and self-study, a township session, an activity and a
    // material of the demo year.
    let scalar = |sql: &'static str| {
        let db = app.db.clone();
        async move {
            match &db {
                pufa::store::Db::Sqlite(pool) => sqlx::query_scalar::<_, i64>(sql)
                    .bind(village)
                    .fetch_one(pool)
                    .await
                    .unwrap(),
                pufa::store::Db::Postgres(_) => unreachable!("sqlite"),
            }
        }
    };
    let person = scalar("SELECT person_id FROM self_study s JOIN people p ON p.id = s.person_id WHERE p.village_id = $1 LIMIT 1").await;
    let session = scalar(
        "SELECT id FROM sessions WHERE village_id IS NULL OR village_id = $1 ORDER BY id LIMIT 1",
    )
    .await;
    let activity =
        scalar("SELECT id FROM activities WHERE village_id = $1 ORDER BY id LIMIT 1").await;
    let material =
        scalar("SELECT material_id FROM distributions WHERE village_id = $1 LIMIT 1").await;
    let pages = [
        "/?year=2021".to_string(),
        "/sessions?year=2021".into(),
        "/sessions/calendar?year=2021&month=3".into(),
        format!("/sessions/{session}"),
        format!("/sessions/{session}/invite"),
        "/sessions/requirements?year=2021".into(),
        "/sessions/new".into(),
        "/people".into(),
        format!("/people/{person}?year=2021"),
        "/people/new".into(),
        "/self-study?year=2021".into(),
        "/self-study/new".into(),
        "/activities?year=2021".into(),
        format!("/activities/{activity}"),
        "/activities/new".into(),
        "/distributions?year=2021".into(),
        "/distributions/new".into(),
        "/materials?year=2021".into(),
        format!("/materials/{material}?year=2021"),
        "/villages".into(),
        format!("/villages/{village}?year=2021"),
        "/imports".into(),
        "/imports/history".into(),
        "/account".into(),
    ];
    let base = serve(&app).await;
    let mut too_wide = Vec::new();
    // Chart text under 12 px, and buttons or fields under 32 px tall.
    let mut too_small = Vec::new();
    // The header (name, 退出 and the menu) taller than this leaves too little of the page.
    let mut menu_too_tall = Vec::new();
    for user in ["organizer", "clerk"] {
        let (_driver, b) = start_browser(&chromium, &driver).await;
        let result: Result<(), fantoccini::error::CmdError> = async {
            b.set_window_size(390, 844).await?;
            log_in(&b, &base, user).await?;
            for page in &pages {
                // The first session is the township's: only the organizer invites to it.
                if user == "clerk" && page.ends_with("/invite") {
                    continue;
                }
                b.goto(&format!("{base}{page}")).await?;
                wait_for(&b, "h1").await?;
                let title = b.title().await?;
                assert!(
                    !title.starts_with("页面不存在") && !title.starts_with("没有权限"),
                    "{user} {page}: {title}"
                );
                let widths = b
                    .execute(
                        "return [document.documentElement.scrollWidth, window.innerWidth];",
                        vec![],
                    )
                    .await?;
                let (page_width, window) = (
                    widths[0].as_i64().unwrap_or(0),
                    widths[1].as_i64().unwrap_or(0),
                );
                let least = smallest_chart_text(&b).await?;
                if least < 12.0 {
                    too_small.push(format!("{user} {page}: chart text {least:.1} px"));
                }
                let small_targets = b
                    .execute(
                        "var out = []; document.querySelectorAll('button, .button, select, input:not([type=hidden]):not([type=checkbox]):not([type=radio])').forEach(function (e) {\
                           var r = e.getBoundingClientRect();\
                           if (r.width > 0 && r.height < 32) { out.push((e.name || e.textContent.trim()) + ' ' + Math.round(r.height) + ' px'); } });\
                         return out;",
                        vec![],
                    )
                    .await?;
                for target in small_targets.as_array().into_iter().flatten() {
                    too_small.push(format!("{user} {page}: {target}"));
                }
                // The menu leaves most of the first screen to the page.
                let header = b
                    .execute(
                        "return document.querySelector('.topbar').getBoundingClientRect().height;",
                        vec![],
                    )
                    .await?;
                if header.as_f64().unwrap_or(f64::MAX) > 130.0 {
                    menu_too_tall.push(format!("{user} {page}: {header} px"));
                }
                let name = format!("phone_{user}_{}", page.replace(['/', '?', '&', '='], "_"));
                keep_screenshot(&b, &name).await?;
                if page_width > window {
                    too_wide.push(format!("{user} {page}: {page_width} px of {window}"));
                }
            }
            Ok(())
        }
        .await;
        let _ = b.close().await;
        result.expect("the pages open");
    }
    assert!(too_wide.is_empty(), "wider than a phone: {too_wide:#?}");
    assert!(too_small.is_empty(), "too small on a phone: {too_small:#?}");
    assert!(
        menu_too_tall.is_empty(),
        "the menu takes the phone's first screen: {menu_too_tall:#?}"
    );
}
