//! The streams table's filters live in the URL query, so a view can be bookmarked and shared.

use leptos_router::params::ParamsMap;

use crate::streams::{PAGE_SIZES, StreamFilter};

pub fn from_query(query: &ParamsMap) -> StreamFilter {
    let defaults = StreamFilter::default();
    StreamFilter {
        name: query.get("name").unwrap_or_default(),
        status: query.get("status").and_then(|status| status.parse().ok()),
        tag: query.get("tag").unwrap_or_default(),
        page: query
            .get("page")
            .and_then(|page| page.parse().ok())
            .filter(|page| *page >= 1)
            .unwrap_or(defaults.page),
        per_page: query
            .get("per_page")
            .and_then(|size| size.parse().ok())
            .filter(|size| PAGE_SIZES.contains(size))
            .unwrap_or(defaults.per_page),
    }
}

/// The URL of the streams page showing `page` of `filter`.
pub fn url(filter: &StreamFilter, page: u32) -> String {
    let defaults = StreamFilter::default();
    let per_page = filter.per_page.to_string();
    let page = page.to_string();
    let mut pairs = vec![];
    if !filter.name.is_empty() {
        pairs.push(("name", filter.name.as_str()));
    }
    if let Some(status) = filter.status {
        pairs.push(("status", status.as_str()));
    }
    if !filter.tag.is_empty() {
        pairs.push(("tag", filter.tag.as_str()));
    }
    if filter.per_page != defaults.per_page {
        pairs.push(("per_page", per_page.as_str()));
    }
    if page != "1" {
        pairs.push(("page", page.as_str()));
    }
    let query = serde_urlencoded::to_string(pairs).unwrap_or_default();
    if query.is_empty() {
        "/streams".into()
    } else {
        format!("/streams?{query}")
    }
}

/// The URL of the streams page showing `filter` with a stream's side panel open at `tab`.
pub fn panel_url(filter: &StreamFilter, stream: &str, tab: &str) -> String {
    let base = url(filter, filter.page);
    let separator = if base.contains('?') { '&' } else { '?' };
    let panel = serde_urlencoded::to_string([("stream", stream), ("tab", tab)]).unwrap_or_default();
    format!("{base}{separator}{panel}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::streams::StreamStatus;

    #[test]
    fn filters_round_trip_through_the_url() {
        let filter = StreamFilter {
            name: "login & more".into(),
            status: Some(StreamStatus::Disabled),
            tag: "ops".into(),
            page: 1,
            per_page: 50,
        };
        let url = url(&filter, 3);
        assert_eq!(
            url,
            "/streams?name=login+%26+more&status=disabled&tag=ops&per_page=50&page=3"
        );
        let query = ParamsMap::from_iter(
            serde_urlencoded::from_str::<Vec<(String, String)>>(url.split_once('?').unwrap().1)
                .unwrap(),
        );
        assert_eq!(
            from_query(&query),
            StreamFilter {
                page: 3,
                ..filter.clone()
            }
        );
        assert_eq!(
            panel_url(&StreamFilter { page: 3, ..filter }, "str_1", "events"),
            "/streams?name=login+%26+more&status=disabled&tag=ops&per_page=50&page=3&stream=str_1&tab=events"
        );
        assert_eq!(
            panel_url(&StreamFilter::default(), "str_1", "info"),
            "/streams?stream=str_1&tab=info"
        );
    }

    #[test]
    fn nonsense_in_the_url_falls_back_to_defaults() {
        let query = ParamsMap::from_iter([
            ("page".to_string(), "0".to_string()),
            ("per_page".to_string(), "7".to_string()),
            ("status".to_string(), "weird".to_string()),
        ]);
        assert_eq!(from_query(&query), StreamFilter::default());
        assert_eq!(url(&StreamFilter::default(), 1), "/streams");
    }
}
