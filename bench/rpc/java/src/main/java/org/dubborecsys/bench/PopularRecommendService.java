package org.dubborecsys.bench;

import org.dubborecsys.api.RecommendRequest;
import org.dubborecsys.api.RecommendResponse;
import org.dubborecsys.api.RecommendService;

/** {@link RecommendService} over {@link PopularList}: the same answers as the Python provider's popular pipeline. */
final class PopularRecommendService implements RecommendService {

    private final PopularList popular = PopularList.embedded();

    @Override
    public RecommendResponse recommend(RecommendRequest request) {
        if (request == null) {
            RecommendResponse response = new RecommendResponse();
            response.setCode(400);
            response.setMessage("request is required");
            return response;
        }
        return popular.answer(request);
    }
}
