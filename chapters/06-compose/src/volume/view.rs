//! Volumes as docker shows them: `volume inspect`'s document (the Engine API's `Volume`) and
//! `volume ls --filter`.

use std::collections::BTreeMap;

use serde::Serialize;

use super::error::{Error, Result};
use super::record::Volume;

/// The label docker 23+ puts on the anonymous volumes it makes for containers.
pub const ANONYMOUS_LABEL: &str = "com.docker.volume.anonymous";

/// A volume as `docker volume inspect` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Document {
    /// When it was made: RFC 3339 in the local time zone.
    pub created_at: String,
    /// `local`.
    pub driver: String,
    /// Its labels; `null` when it has none, as docker prints it.
    pub labels: Option<BTreeMap<String, String>>,
    /// Its `_data` directory.
    pub mountpoint: String,
    /// Its name.
    pub name: String,
    /// The driver's options; `null` when none.
    pub options: Option<BTreeMap<String, String>>,
    /// `local`: the volume is on this machine only.
    pub scope: String,
}

impl Document {
    /// The document for `volume`. An anonymous volume carries docker's anonymous label.
    pub fn of(volume: &Volume) -> Document {
        let mut labels = volume.metadata.labels.clone();
        if volume.metadata.anonymous {
            labels.insert(ANONYMOUS_LABEL.to_owned(), String::new());
        }
        let some = |map: BTreeMap<String, String>| (!map.is_empty()).then_some(map);
        Document {
            created_at: local_rfc3339((volume.metadata.created_ns / 1_000_000_000) as i64),
            driver: volume.metadata.driver.clone(),
            labels: some(labels),
            mountpoint: volume.mountpoint.display().to_string(),
            name: volume.name.clone(),
            options: some(volume.metadata.options.clone()),
            scope: "local".to_owned(),
        }
    }
}

/// `seconds` since the epoch as RFC 3339 in this machine's time zone, as Go's
/// `time.Format(time.RFC3339)` writes local times: `2024-05-01T12:00:00+02:00`, or `Z` in UTC.
pub fn local_rfc3339(seconds: i64) -> String {
    let offset = utc_offset(seconds);
    let utc_shifted = dockyard_support::clock::format_rfc3339(seconds + offset);
    let clock = utc_shifted.trim_end_matches('Z');
    if offset == 0 {
        return format!("{clock}Z");
    }
    let sign = if offset < 0 { '-' } else { '+' };
    let minutes = offset.abs() / 60;
    format!("{clock}{sign}{:02}:{:02}", minutes / 60, minutes % 60)
}

/// The local time zone's offset from UTC at `seconds`, in seconds (the C library reads `TZ`
/// and `/etc/localtime`). A C `long`: 64 bits, as `time_t`, on the targets this engine runs on.
fn utc_offset(seconds: i64) -> libc::c_long {
    let time = seconds as libc::time_t;
    let mut tm = std::mem::MaybeUninit::<libc::tm>::zeroed();
    // SAFETY: `time` and `tm` are valid for the call; localtime_r writes only into `tm`.
    let converted = unsafe { libc::localtime_r(&time, tm.as_mut_ptr()) };
    if converted.is_null() {
        return 0;
    }
    // SAFETY: localtime_r succeeded, so it filled `tm` in.
    unsafe { tm.assume_init() }.tm_gmtoff
}

/// `volume ls --filter`s: each key's values are alternatives, different keys must all hold,
/// as docker combines them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    dangling: Option<bool>,
    names: Vec<String>,
    drivers: Vec<String>,
    labels: Vec<(String, Option<String>)>,
}

impl Filters {
    /// Reads `key=value` filters: `dangling=true|false`, `name=` (a regular expression, as
    /// docker's), `driver=`, `label=KEY` or `label=KEY=VALUE`.
    pub fn parse(filters: &[String]) -> Result<Filters> {
        let hint = "filters: dangling=true|false, name=…, driver=local, label=KEY[=VALUE]";
        let mut parsed = Filters::default();
        for filter in filters {
            let Some((key, value)) = filter.split_once('=') else {
                return Err(Error::invalid(
                    "bad format of filter (expected name=value)",
                    hint,
                ));
            };
            match key {
                "dangling" => {
                    parsed.dangling = Some(match value {
                        "true" | "1" => true,
                        "false" | "0" => false,
                        _ => {
                            return Err(Error::invalid(
                                format!("Invalid filter 'dangling=[{value}]'"),
                                hint,
                            ));
                        }
                    });
                }
                "name" => parsed.names.push(value.to_owned()),
                "driver" => parsed.drivers.push(value.to_owned()),
                "label" => parsed.labels.push(match value.split_once('=') {
                    Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
                    None => (value.to_owned(), None),
                }),
                _ => return Err(Error::invalid(format!("Invalid filter '{key}'"), hint)),
            }
        }
        Ok(parsed)
    }

    /// Whether `volume` passes; `in_use` says whether a container uses it.
    pub fn matches(&self, volume: &Volume, in_use: bool) -> bool {
        let labels = Document::of(volume).labels.unwrap_or_default();
        self.dangling.is_none_or(|dangling| dangling != in_use)
            && (self.names.is_empty()
                || self.names.iter().any(|pattern| {
                    pattern == &volume.name
                        || regex::Regex::new(pattern).is_ok_and(|re| re.is_match(&volume.name))
                }))
            && (self.drivers.is_empty() || self.drivers.contains(&volume.metadata.driver))
            && self.labels.iter().all(|(key, value)| match value {
                Some(value) => labels.get(key) == Some(value),
                None => labels.contains_key(key),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::volume::record::Metadata;

    fn volume(name: &str, labels: &[(&str, &str)], anonymous: bool) -> Volume {
        Volume {
            name: name.into(),
            mountpoint: format!("/root/volumes/{name}/_data").into(),
            metadata: Metadata {
                created_ns: 1_704_067_200_000_000_000,
                driver: "local".into(),
                labels: labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                options: BTreeMap::new(),
                anonymous,
            },
        }
    }

    #[test]
    fn documents_have_dockers_fields_and_nulls() {
        let json = serde_json::to_value(Document::of(&volume("data", &[], false))).unwrap();
        let fields: Vec<&String> = json.as_object().unwrap().keys().collect();
        assert_eq!(
            fields,
            [
                "CreatedAt",
                "Driver",
                "Labels",
                "Mountpoint",
                "Name",
                "Options",
                "Scope"
            ]
        );
        assert!(json["Labels"].is_null() && json["Options"].is_null());
        let anonymous = Document::of(&volume("x1", &[], true));
        assert_eq!(
            anonymous.labels.unwrap().get(ANONYMOUS_LABEL),
            Some(&String::new())
        );
    }

    #[test]
    fn local_times_carry_the_zone() {
        let time = local_rfc3339(1_704_067_200);
        assert!(
            time.starts_with("2024-01-01T") || time.starts_with("2023-12-31T"),
            "{time}"
        );
        assert!(time.ends_with('Z') || time[19..].len() == 6, "{time}");
    }

    #[test]
    fn filters_combine_as_dockers() {
        let filters =
            |list: &[&str]| Filters::parse(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        let keep = volume("keep", &[("tier", "db"), ("x", "")], false);
        assert!(filters(&["name=ke"]).unwrap().matches(&keep, false));
        assert!(filters(&["name=^k.*p$"]).unwrap().matches(&keep, false));
        assert!(!filters(&["name=other"]).unwrap().matches(&keep, false));
        assert!(
            filters(&["name=other", "name=keep"])
                .unwrap()
                .matches(&keep, false)
        );
        assert!(
            filters(&["label=tier", "label=x="])
                .unwrap()
                .matches(&keep, false)
        );
        assert!(!filters(&["label=tier=web"]).unwrap().matches(&keep, false));
        assert!(filters(&["dangling=true"]).unwrap().matches(&keep, false));
        assert!(!filters(&["dangling=1"]).unwrap().matches(&keep, true));
        assert!(filters(&["dangling=false"]).unwrap().matches(&keep, true));
        let error = |list: &[&str]| filters(list).unwrap_err().to_string();
        assert_eq!(error(&["bogus=1"]), "Invalid filter 'bogus'");
        assert_eq!(
            error(&["dangling=maybe"]),
            "Invalid filter 'dangling=[maybe]'"
        );
        assert_eq!(
            error(&["dangling"]),
            "bad format of filter (expected name=value)"
        );
    }
}
