package org.dubborecsys.producer;

import java.util.List;
import java.util.Map;

/**
 * The event contract of dubbo-recsys (interfaces/events.schema.json) written as JSON by hand, so the
 * sample needs nothing but kafka-clients: a shop with Jackson or Gson writes the same fields.
 *
 * <pre>
 * user event  {"eventId","userId","itemId","action","value","ts","scene","requestId"}
 *             action: click | play | rate | purchase | exposure | dislike; ts: epoch milliseconds
 * item event  {"eventId","itemId","op":"upsert","ts","item":{"category","categories","author","region","attrs"}}
 *             {"eventId","itemId","op":"remove","ts"}
 * </pre>
 */
public final class EventJson {
    private EventJson() {
    }

    public static String userEvent(String eventId, String userId, String itemId, String action, double value,
                                   long ts, String scene, String requestId) {
        return "{" + field("eventId", eventId) + "," + field("userId", userId) + "," + field("itemId", itemId)
                + "," + field("action", action) + ",\"value\":" + value + ",\"ts\":" + ts + ","
                + field("scene", scene) + "," + field("requestId", requestId) + "}";
    }

    public static String itemUpsert(String eventId, String itemId, long ts, String category, List<String> categories,
                                    Map<String, String> attrs) {
        StringBuilder cats = new StringBuilder("[");
        for (int i = 0; i < categories.size(); i++) {
            cats.append(i == 0 ? "" : ",").append(string(categories.get(i)));
        }
        StringBuilder map = new StringBuilder("{");
        boolean first = true;
        for (Map.Entry<String, String> entry : attrs.entrySet()) {
            map.append(first ? "" : ",").append(field(entry.getKey(), entry.getValue()));
            first = false;
        }
        return "{" + field("eventId", eventId) + "," + field("itemId", itemId) + ",\"op\":\"upsert\",\"ts\":" + ts
                + ",\"item\":{" + field("category", category) + ",\"categories\":" + cats + "],"
                + field("author", "") + "," + field("region", "") + ",\"attrs\":" + map + "}}}";
    }

    public static String itemRemove(String eventId, String itemId, long ts) {
        return "{" + field("eventId", eventId) + "," + field("itemId", itemId) + ",\"op\":\"remove\",\"ts\":" + ts + "}";
    }

    static String field(String name, String value) {
        return string(name) + ":" + string(value);
    }

    /** A JSON string: quotes, backslashes and control characters escaped (RFC 8259 section 7). */
    static String string(String value) {
        StringBuilder out = new StringBuilder(value.length() + 2).append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }
}
