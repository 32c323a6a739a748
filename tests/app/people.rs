//! The people registry: village confinement, ID numbers, escaping, filters.

use pufa::domain::Role;
use rocket::http::Status;

use crate::helpers::{on_both_backends, Backend, TestApp};

on_both_backends!(
    an_address_with_a_word_for_an_id_is_not_found,
    a_person_without_records_has_zero_hours,
    clerk_cannot_see_or_change_other_village,
    clerk_creates_people_only_in_own_village,
    id_number_is_validated_on_the_form,
    id_number_is_masked_except_on_the_edit_form,
    script_in_a_name_is_shown_as_text,
    list_filters_by_village_category_and_name,
    viewer_reads_but_cannot_change,
);

/// A valid 18-digit ID number for a birth date, from the GB 11643 check character.
fn id_number(first_17: &str) -> String {
    format!(
        "{first_17}{}",
        pufa::domain::id_number::check_char(first_17)
    )
}

fn person_fields<'a>(name: &'a str, village_id: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("gender", ""),
        ("village_id", village_id),
        ("post", ""),
        ("phone", ""),
        ("id_number", ""),
        ("notes", ""),
    ]
}

async fn clerk_cannot_see_or_change_other_village(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "clerk_cannot_see_or_change_other_village").await
    else {
        return;
    };
    let a = app.village("龙凤村").await;
    let b = app.village("青峰村").await;
    let own = app.person("本村人员", Some(a)).await;
    let other = app.person("外村人员", Some(b)).await;
    app.user("clerk_a", Role::Clerk, Some(a)).await;
    let clerk = app.session("clerk_a").await;
    // The roster is drawn once per data version for each role and village: a township
    // viewer looking first sees both villages and no 登记人员, and the clerk after them
    // still sees only their own village, with 登记人员.
    app.user("leader", Role::Viewer, None).await;
    let leader = app.session("leader").await;
    let list = leader.get("/people").await;
    assert!(
        list.body.contains("本村人员")
            && list.body.contains("外村人员")
            && !list.body.contains("登记人员"),
        "{}",
        list.body
    );

    let list = clerk.get("/people").await;
    assert!(list.body.contains("本村人员"));
    assert!(!list.body.contains("外村人员"));
    assert!(list.body.contains("登记人员"), "{}", list.body);
    let filtered = clerk.get(&format!("/people?village={b}&active=all")).await;
    assert!(
        !filtered.body.contains("外村人员"),
        "the village filter cannot widen a clerk's view"
    );

    let missing = clerk.get("/people/999999").await;
    for path in [format!("/people/{other}"), format!("/people/{other}/edit")] {
        let reply = clerk.get(&path).await;
        assert_eq!(reply.status, Status::NotFound, "{path}");
        assert_eq!(
            reply.body, missing.body,
            "{path} looks exactly like a person that does not exist"
        );
    }
    let edit = clerk
        .post(
            &format!("/people/{other}"),
            &person_fields("改名", &b.to_string()),
        )
        .await;
    assert_eq!(edit.status, Status::NotFound);
    let deactivate = clerk
        .post(&format!("/people/{other}/active"), &[("active", "false")])
        .await;
    assert_eq!(deactivate.status, Status::NotFound);

    // Moving one's own person into another village by editing the form's field.
    let moved = clerk
        .post(
            &format!("/people/{own}"),
            &person_fields("本村人员", &b.to_string()),
        )
        .await;
    assert_eq!(moved.status, Status::Forbidden);

    let other_now = pufa::store::people::get(&app.db, other)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(other_now.name, "外村人员");
    assert!(other_now.active);
    let own_now = pufa::store::people::get(&app.db, own)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(own_now.village_id, Some(a));
}

async fn clerk_creates_people_only_in_own_village(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "clerk_creates_people_only_in_own_village").await
    else {
        return;
    };
    let a = app.village("龙凤村").await;
    let b = app.village("青峰村").await;
    app.user("clerk_a", Role::Clerk, Some(a)).await;
    let clerk = app.session("clerk_a").await;

    let form = clerk.get("/people/new").await;
    assert!(form.body.contains("龙凤村") && !form.body.contains("青峰村"));
    assert!(
        !form.body.contains("镇机关"),
        "a clerk cannot register township staff"
    );

    let forged = clerk
        .post("/people", &person_fields("越权登记", &b.to_string()))
        .await;
    assert_eq!(forged.status, Status::Forbidden);
    let township = clerk.post("/people", &person_fields("越权登记", "")).await;
    assert_eq!(township.status, Status::Forbidden);
    let filter = pufa::store::people::PersonFilter::default();
    assert_eq!(
        pufa::store::people::count(&app.db, &filter).await.unwrap(),
        0
    );

    let created = clerk
        .post("/people", &person_fields("本村新人", &a.to_string()))
        .await;
    assert_eq!(created.status, Status::SeeOther);
    let page = clerk.get(created.location.as_deref().unwrap()).await;
    assert!(page.body.contains("本村新人") && page.body.contains("龙凤村"));
}

async fn id_number_is_validated_on_the_form(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "id_number_is_validated_on_the_form").await else {
        return;
    };
    let a = app.village("龙凤村").await;
    app.user("organizer", Role::Organizer, None).await;
    let organizer = app.session("organizer").await;
    let village = a.to_string();
    let valid = id_number("51192119800101123");
    let wrong_checksum = {
        let mut s = valid.clone();
        let last = if s.ends_with('0') { "1" } else { "0" };
        s.replace_range(17.., last);
        s
    };
    let impossible_birth = id_number("51192119810230123");
    let cases = [
        (wrong_checksum.as_str(), "校验位不正确"),
        (impossible_birth.as_str(), "出生日期不存在"),
        ("511921800101123", "请填写18位的新身份证号"),
        ("5119211980", "应为18位"),
    ];
    for (number, message) in cases {
        let mut fields = person_fields("张三", &village);
        fields[5] = ("id_number", number);
        let reply = organizer.post("/people", &fields).await;
        assert_eq!(reply.status, Status::Ok, "{number} re-renders the form");
        assert!(
            reply.body.contains(message),
            "{number}: expected “{message}”"
        );
        assert!(
            reply.body.contains(&format!("value=\"{number}\"")),
            "the typed value is kept"
        );
    }
    let mut fields = person_fields("张三", &village);
    fields[4] = ("phone", "12345");
    let reply = organizer.post("/people", &fields).await;
    assert!(reply.body.contains("电话号码格式不正确"));
    let filter = pufa::store::people::PersonFilter::default();
    assert_eq!(
        pufa::store::people::count(&app.db, &filter).await.unwrap(),
        0,
        "nothing saved"
    );

    let mut fields = person_fields("张三", &village);
    fields[5] = ("id_number", &valid);
    fields[4] = ("phone", "138 1234 5678");
    assert_eq!(
        organizer.post("/people", &fields).await.status,
        Status::SeeOther
    );
    let mut twin = person_fields("张三的双胞胎", &village);
    twin[5] = ("id_number", &valid);
    let reply = organizer.post("/people", &twin).await;
    assert!(reply.body.contains("该身份证号已登记在另一人员名下"));

    // A 法律明白人 needs 认定日期: the new form offers today, and an empty one is refused.
    let today = chrono::Local::now().date_naive().to_string();
    let form = organizer.get("/people/new").await;
    assert!(
        form.body.contains(&format!(
            r#"name="categories[legal_literate].since" value="{today}""#
        )),
        "{}",
        form.body
    );
    let mut literate = person_fields("孙明白", &village);
    literate.push(("categories[legal_literate].held", "true"));
    literate.push(("categories[legal_literate].since", ""));
    literate.push(("categories[legal_literate].until", ""));
    let reply = organizer.post("/people", &literate).await;
    assert_eq!(reply.status, Status::Ok, "re-rendered");
    assert!(reply.body.contains("请填写认定日期"), "{}", reply.body);
    assert_eq!(
        pufa::store::people::count(&app.db, &filter).await.unwrap(),
        1,
        "nothing more saved"
    );
}

async fn id_number_is_masked_except_on_the_edit_form(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "id_number_is_masked_except_on_the_edit_form").await
    else {
        return;
    };
    let a = app.village("龙凤村").await;
    app.user("clerk_a", Role::Clerk, Some(a)).await;
    app.user("viewer", Role::Viewer, None).await;
    let clerk = app.session("clerk_a").await;
    let number = id_number("51192119800101123");
    let masked = format!("511921********123{}", &number[17..]);
    let village = a.to_string();
    let mut fields = person_fields("李四", &village);
    fields[5] = ("id_number", &number);
    let created = clerk.post("/people", &fields).await;
    let detail_path = created.location.expect("redirect to the new person");

    for session in [&clerk, &app.session("viewer").await] {
        for path in ["/people", detail_path.as_str()] {
            let page = session.get(path).await;
            assert!(
                page.body.contains(&masked),
                "{path} shows the masked number"
            );
            assert!(
                !page.body.contains(&number),
                "{path} never shows the full number"
            );
        }
    }
    let edit = clerk.get(&format!("{detail_path}/edit")).await;
    assert!(
        edit.body.contains(&number),
        "the edit form of an allowed user shows it in full"
    );
}

async fn script_in_a_name_is_shown_as_text(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "script_in_a_name_is_shown_as_text").await else {
        return;
    };
    let a = app.village("<b>村</b>").await;
    let id = app.person("<script>alert(1)</script>", Some(a)).await;
    app.user("organizer", Role::Organizer, None).await;
    let organizer = app.session("organizer").await;
    for path in [
        "/people".to_string(),
        format!("/people/{id}"),
        format!("/people/{id}/edit"),
        "/villages".into(),
    ] {
        let page = organizer.get(&path).await;
        assert!(
            !page.body.contains("<script>alert(1)</script>"),
            "{path} must escape the name"
        );
        assert!(
            !page.body.contains("<b>村</b>"),
            "{path} must escape the village"
        );
    }
    let page = organizer.get(&format!("/people/{id}")).await;
    assert!(
        page.body
            .contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;")
            || page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;")
    );
}

async fn list_filters_by_village_category_and_name(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "list_filters_by_village_category_and_name").await
    else {
        return;
    };
    let a = app.village("龙凤村").await;
    let b = app.village("青峰村").await;
    app.user("organizer", Role::Organizer, None).await;
    let organizer = app.session("organizer").await;
    let literate = [
        ("name", "王明白"),
        ("gender", "male"),
        ("village_id", &a.to_string()),
        ("post", "村民"),
        ("phone", ""),
        ("id_number", ""),
        ("notes", ""),
        ("categories[legal_literate].held", "true"),
        ("categories[legal_literate].since", "2021-03-05"),
        ("categories[legal_literate].until", ""),
    ];
    let created = organizer.post("/people", &literate).await;
    assert_eq!(created.status, Status::SeeOther, "{}", created.body);
    app.person("赵普通", Some(a)).await;
    let gone = app.person("钱离任", Some(b)).await;
    organizer
        .post(&format!("/people/{gone}/active"), &[("active", "false")])
        .await;

    let by_category = organizer.get("/people?category=legal_literate").await;
    assert!(by_category.body.contains("王明白") && !by_category.body.contains("赵普通"));
    assert!(by_category.body.contains("法律明白人"));
    let by_name = organizer.get(&format!("/people?q={}", "%E6%99%AE")).await; // 普
    assert!(by_name.body.contains("赵普通") && !by_name.body.contains("王明白"));
    let by_village = organizer
        .get(&format!("/people?village={b}&active=all"))
        .await;
    assert!(by_village.body.contains("钱离任") && !by_village.body.contains("赵普通"));
    let active_only = organizer.get(&format!("/people?village={b}")).await;
    assert!(
        !active_only.body.contains("钱离任"),
        "deactivated people leave the default list"
    );

    let detail = organizer.get(created.location.as_deref().unwrap()).await;
    assert!(detail.body.contains("2021-03-05"));
}

async fn viewer_reads_but_cannot_change(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "viewer_reads_but_cannot_change").await else {
        return;
    };
    let a = app.village("龙凤村").await;
    let id = app.person("孙读者", Some(a)).await;
    app.user("leader", Role::Viewer, None).await;
    let leader = app.session("leader").await;
    let page = leader.get(&format!("/people/{id}")).await;
    assert!(page.body.contains("孙读者"));
    assert!(!page.body.contains("/edit\""), "no edit link for a viewer");
    let reply = leader
        .post(
            &format!("/people/{id}"),
            &person_fields("改名", &a.to_string()),
        )
        .await;
    assert_eq!(reply.status, Status::Forbidden);
    assert_eq!(
        pufa::store::people::get(&app.db, id)
            .await
            .unwrap()
            .unwrap()
            .name,
        "孙读者"
    );
}

async fn an_address_with_a_word_for_an_id_is_not_found(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "word_for_an_id").await else {
        return;
    };
    app.user("admin", Role::Admin, None).await;
    let admin = app.session("admin").await;
    for path in ["/people/abc", "/sessions/abc", "/villages/x1"] {
        let page = admin.get(path).await;
        assert_eq!(page.status, Status::NotFound, "{path}");
        assert!(page.body.contains("页面不存在"), "{path}");
        // The error page keeps the menu, so the user can go on from it.
        assert!(page.body.contains(r#"<nav class="mainnav">"#), "{path}");
        assert!(page.body.contains("/logout"), "{path}");
    }
    // Refusals and forbidden pages keep it too.
    let clerk_village = app.village("龙凤村").await;
    app.user("clerk", Role::Clerk, Some(clerk_village)).await;
    let clerk = app.session("clerk").await;
    let page = clerk.get("/users").await;
    assert_eq!(page.status, Status::Forbidden);
    assert!(page.body.contains(r#"<nav class="mainnav">"#));
}

async fn a_person_without_records_has_zero_hours(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "zero_hours").await else {
        return;
    };
    let village = app.village("龙凤村").await;
    let person = app.person("张三", Some(village)).await;
    app.user("admin", Role::Admin, None).await;
    let admin = app.session("admin").await;
    let page = admin.get(&format!("/people/{person}")).await;
    assert_eq!(page.status, Status::Ok);
    assert!(
        page.body.contains("累计学时 <strong>0</strong>"),
        "{}",
        page.body
    );
    // (Only the figure: a random token on the page may contain “-0”.)
    assert!(!page.body.contains("<strong>-0"), "{}", page.body);
}
