//! `leadline import leads` as a user runs it: valid rows become leads, bad rows are
//! listed with their line and reason in FILE.rejected.csv, and the summary is one JSON
//! object on stdout.

mod common;

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_leadline");

both_stores!(imports_a_csv_and_reports_bad_rows, |app| {
    let channel = app.sandbox_channel().await;
    app.create_template(
        json!({"name": "welcome", "language": "en", "body": "Hi {{1}}", "channelType": "SMS"}),
    )
    .await;
    let (status, campaign) = app
        .post("/api/v1/campaigns", json!({"name": "Import", "channelId": channel, "defaultTimeZone": "America/New_York",
                                          "openingTemplate": "welcome", "openingTemplateParams": ["{{firstName}}"]}))
        .await;
    assert_eq!(status, 201, "{campaign}");
    let campaign_id = campaign["id"].as_str().unwrap();

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("leads.csv");
    std::fs::write(
        &file,
        "phoneNumber,externalId,timeZoneId,firstName,city\n\
         +12125550101,a-1,Eastern Standard Time,Ana,NYC\n\
         (415) 555-0102,a-2,,Ben,SF\n\
         not-a-number,a-3,,Cy,LA\n\
         +13125550104,a-4,Mars Standard Time,Di,Chicago\n\
         +13055550105,a-5,,,Miami\n\
         +12125550101,a-1,,Ana Maria,NYC\n",
    )
    .unwrap();
    let output = tokio::process::Command::new(BIN)
        .args([
            "import",
            "leads",
            "--quiet",
            "--campaign",
            campaign_id,
            "--database-url",
            &app.database.url,
        ])
        .arg(&file)
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: Value = serde_json::from_slice(&output.stdout).expect("stdout is one JSON object");
    assert_eq!(summary["accepted"], 3, "{summary}");
    assert_eq!(summary["rejected"], 3, "{summary}");
    let rejected = std::fs::read_to_string(dir.path().join("leads.rejected.csv")).unwrap();
    let lines: Vec<&str> = rejected.lines().collect();
    assert_eq!(lines[0], "line,reason");
    assert!(
        lines[1].starts_with("4,") && lines[1].contains("phoneNumber"),
        "{rejected}"
    );
    assert!(
        lines[2].starts_with("5,") && lines[2].contains("timeZoneId"),
        "{rejected}"
    );
    assert!(
        lines[3].starts_with("6,") && lines[3].contains("callData.firstName"),
        "{rejected}"
    );

    let (_, leads) = app
        .get(&format!("/api/v1/campaigns/{campaign_id}/leads"))
        .await;
    let leads = leads["data"].as_array().unwrap();
    assert_eq!(leads.len(), 2, "a-1 twice is one lead: {leads:?}");
    let ana = leads.iter().find(|l| l["externalId"] == "a-1").unwrap();
    assert_eq!(
        ana["callData"]["firstName"], "Ana Maria",
        "the later row wins"
    );
    let ben = leads.iter().find(|l| l["externalId"] == "a-2").unwrap();
    assert_eq!(ben["phoneNumber"], "+14155550102");
    assert_eq!(ben["callData"]["city"], "SF");
});
