package org.dubborecsys.bench;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.Adler32;
import java.util.zip.CRC32;
import org.dubborecsys.api.RecommendItem;
import org.dubborecsys.api.RecommendRequest;
import org.dubborecsys.api.RecommendResponse;

/**
 * The same answers as the Python provider's {@code PopularRecommender} (provider/popular.py),
 * so the benchmark compares the RPC stacks on identical work and payloads:
 * items {@code item-0001..item-0200} scored {@code round(1 / (1 + 0.05 * rank), 6)}; userId
 * required and count in 1..1000 (else code 400); candidateIds, when given, ranked by that score
 * (unknown ids 0.0); exposed items dropped; requestId = crc32 and adler32 of (scene NUL userId) in hex;
 * always {@code pipeline="popular"}, {@code degraded=true}, channel {@code popular}.
 */
final class PopularList {

    static final int MAX_COUNT = 1000;
    static final int ITEMS = 200;

    private final List<RecommendItem> items;
    private final Map<String, Double> scores;

    private PopularList(List<RecommendItem> items) {
        this.items = items;
        this.scores = new HashMap<>();
        items.forEach(item -> scores.put(item.getItemId(), item.getScore()));
    }

    static PopularList embedded() {
        List<RecommendItem> items = new ArrayList<>();
        for (int rank = 1; rank <= ITEMS; rank++) {
            double score = Math.round(1_000_000.0 / (1.0 + 0.05 * rank)) / 1_000_000.0;
            items.add(new RecommendItem(String.format("item-%04d", rank), score, "popular"));
        }
        return new PopularList(items);
    }

    RecommendResponse answer(RecommendRequest request) {
        String requestId = requestId(request);
        String problem = validate(request);
        if (problem != null) {
            return response(400, problem, requestId, new ArrayList<>(), null);
        }
        List<RecommendItem> ranked;
        if (request.getCandidateIds() != null && !request.getCandidateIds().isEmpty()) {
            ranked = new ArrayList<>();
            for (String id : new LinkedHashSet<>(request.getCandidateIds())) {
                ranked.add(new RecommendItem(id, scores.getOrDefault(id, 0.0), "popular"));
            }
            ranked.sort(Comparator.comparingDouble(RecommendItem::getScore).reversed()); // stable, like sorted()
        } else {
            ranked = items;
        }
        Set<String> seen = request.getExposureList() == null ? Set.of() : new HashSet<>(request.getExposureList());
        List<RecommendItem> picked = new ArrayList<>(Math.min(request.getCount(), ranked.size()));
        for (RecommendItem item : ranked) {
            if (picked.size() == request.getCount()) {
                break;
            }
            if (!seen.contains(item.getItemId())) {
                picked.add(new RecommendItem(item.getItemId(), item.getScore(), "popular"));
            }
        }
        Map<String, String> debug = null;
        if (request.isDebug()) {
            debug = new HashMap<>();
            debug.put("popular", "{\"candidates\": " + ranked.size() + ", \"returned\": " + picked.size() + "}");
        }
        return response(200, "ok", requestId, picked, debug);
    }

    private static String validate(RecommendRequest request) {
        if (request.getUserId() == null || request.getUserId().isEmpty()) {
            return "userId is required";
        }
        if (request.getCount() <= 0 || request.getCount() > MAX_COUNT) {
            return "count must be in 1.." + MAX_COUNT + ", got " + request.getCount();
        }
        return null;
    }

    private static RecommendResponse response(
            int code, String message, String requestId, List<RecommendItem> items, Map<String, String> debug) {
        RecommendResponse response = new RecommendResponse();
        response.setCode(code);
        response.setMessage(message);
        response.setRequestId(requestId);
        response.setItems(items);
        response.setDegraded(true);
        response.setPipeline("popular");
        response.setDebugInfo(debug);
        return response;
    }

    /** crc32 then adler32 of "scene NUL userId" (UTF-8), 8 hex digits each, as provider/popular.py. */
    private static String requestId(RecommendRequest request) {
        byte[] key = (nullToEmpty(request.getScene()) + "\u0000" + nullToEmpty(request.getUserId()))
                .getBytes(StandardCharsets.UTF_8);
        CRC32 crc = new CRC32();
        crc.update(key);
        Adler32 adler = new Adler32();
        adler.update(key);
        return String.format("%08x%08x", crc.getValue(), adler.getValue());
    }

    private static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }
}
