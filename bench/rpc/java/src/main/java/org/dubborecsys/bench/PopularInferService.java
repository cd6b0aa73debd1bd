package org.dubborecsys.bench;

import com.loki.www.infer.DubbogoInferService;
import com.loki.www.infer.RecRequest;
import com.loki.www.infer.RecResponse;
import java.util.ArrayList;
import java.util.List;
import org.dubborecsys.api.RecommendItem;
import org.dubborecsys.api.RecommendRequest;
import org.dubborecsys.api.RecommendResponse;

/** The seed contract over the same popular list: {@code data} = {@code "<itemId>:<score>"}, best first. */
final class PopularInferService implements DubbogoInferService {

    private final PopularList popular = PopularList.embedded();

    @Override
    public RecResponse RecommenderInfer(RecRequest request) {
        RecResponse response = new RecResponse();
        if (request == null) {
            response.setCode(400L);
            response.setMessage("request is required");
            return response;
        }
        List<String> missing = new ArrayList<>();
        if (isBlank(request.getUserId())) {
            missing.add("userId");
        }
        if (isBlank(request.getDataId())) {
            missing.add("dataId");
        }
        if (!missing.isEmpty()) {
            response.setCode(400L);
            response.setMessage(String.join(" and ", missing) + " required");
            return response;
        }
        RecommendRequest ours = new RecommendRequest(request.getUserId(), request.getDataId(), 10);
        ours.setExposureList(request.getExposureList() == null ? new ArrayList<>() : request.getExposureList());
        RecommendResponse answer = popular.answer(ours);
        List<String> data = new ArrayList<>();
        for (RecommendItem item : answer.getItems()) {
            data.add(item.getItemId() + ":" + item.getScore());
        }
        response.setCode(answer.getCode());
        response.setMessage(answer.getMessage());
        response.setData(data);
        return response;
    }

    @Override
    public RecResponse recommenderInfer(RecRequest request) {
        return RecommenderInfer(request);
    }

    private static boolean isBlank(String s) {
        return s == null || s.isEmpty();
    }
}
