package com.loki.www.infer;

/**
 * The seed system's contract, unchanged (see {@code interfaces/seed.py}); no version, no group.
 *
 * <p>The Go original exported {@code RecommenderInfer}; Java code written against it may use
 * either spelling. Java allows both in one interface because method names are case-sensitive,
 * and the Python provider answers both.
 */
public interface DubbogoInferService {

    RecResponse RecommenderInfer(RecRequest request);

    RecResponse recommenderInfer(RecRequest request);
}
