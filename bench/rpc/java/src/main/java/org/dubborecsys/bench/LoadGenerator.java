package org.dubborecsys.bench;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.dubbo.config.ApplicationConfig;
import org.apache.dubbo.config.ReferenceConfig;
import org.apache.dubbo.config.bootstrap.DubboBootstrap;
import org.apache.dubbo.rpc.service.EchoService;
import org.dubborecsys.api.RecommendRequest;
import org.dubborecsys.api.RecommendResponse;
import org.dubborecsys.api.RecommendService;

/**
 * A bounded Dubbo 3.3 load generator: N consumer threads share one reference (and so, by
 * default, one connection), call {@code $echo} or {@code recommend} as fast as answers come
 * back, and stop at whichever comes first, the request count or the time limit. A warm-up
 * phase (same load, not measured) lets both JITs and the provider settle.
 *
 * <pre>
 * java -cp ... org.dubborecsys.bench.LoadGenerator --url dubbo://127.0.0.1:20880 --call echo,recommend
 * java -cp ... org.dubborecsys.bench.LoadGenerator --target java=dubbo://127.0.0.1:20881
 *     --target python=dubbo://127.0.0.1:20880@1 --rounds 2 --call echo,recommend
 *     [--threads 16] [--requests 200000] [--seconds 10] [--warmup-seconds 1] [--initial-warmup-seconds 3]
 *     [--users 943] [--rate 300]
 * </pre>
 *
 * {@code --users N} makes {@code recommend} ask for the users "1".."N" in turn (the ids of an
 * ML-100K build, for a provider running the funnel) instead of made-up users; answers whose
 * {@code pipeline} is not "full" are counted in "degraded" (they are not errors).
 *
 * {@code --rate R} (requests/s) switches from that closed loop to an open one: call {@code i} is
 * scheduled at {@code start + i / R} whatever happened to earlier calls, {@code --threads} callers
 * take the scheduled calls in turn (so at most that many are in flight), and each call's latency
 * is measured from its scheduled time, not from when a caller got to send it. A provider that
 * falls behind the rate thus shows its backlog in the latencies instead of slowing the load down
 * (no coordinated omission). Calls are scheduled during {@code --seconds} (or up to
 * {@code --requests}); throughput is the answered calls over the time until the last one came back.
 * The JSON line then carries {@code "rate"} (0 in the closed loop) and {@code "late"}: calls sent
 * more than 1 ms after their scheduled time (all callers were busy).
 *
 * {@code --check-versions 1} asks every {@code recommend} for its debug info and checks that the answer
 * ran on one artifact version: the version of the answer ({@code debugInfo["artifacts"]}) and the version
 * stamped on every stage's trace must all be the same (a provider swapping versions under load must never
 * mix them). The JSON line then carries {@code "mixed"} (answers whose stages disagree, or that carry no
 * version at all) and {@code "versions"} (answers per version). {@code --calls-out FILE} writes one CSV line
 * per measured call, {@code epoch_ms,latency_us,ok,version} ({@code epoch_ms}: when it was scheduled, or
 * sent in the closed loop), for a caller that wants latencies per time window (e.g. during a swap).
 * {@code --stop-file PATH} ends the measured phase early once that file exists (checked every 100 ms), for a
 * caller whose scenario has no fixed length: {@code --seconds} is then the longest it may take.
 *
 * With several targets, one JVM measures them all, interleaved round by round, so the consumer
 * side is equally warm for each and outside load spreads over all of them.
 * Prints one JSON line per round, target and call kind: throughput (calls/s), latency percentiles in microseconds, errors;
 * each measured phase is bracketed by the lines {@code measure-start} and {@code measure-end}, so a caller can
 * sample the provider's CPU time over exactly the measured calls.
 * A call counts as an error if it throws or its answer is wrong (echo mismatch, or a
 * recommendation without code 200 and the requested item count), so speed never hides breakage.
 */
public final class LoadGenerator {

    private static final int RECOMMEND_COUNT = 10;

    private LoadGenerator() {
    }

    /** One provider to measure: a name for the report, its address, how many connections to open. */
    record Target(String name, String url, int connections) {

        /** {@code name=dubbo://host:port} or {@code name=dubbo://host:port@connections}. */
        static Target parse(String spec) {
            int eq = spec.indexOf('=');
            int at = spec.lastIndexOf('@');
            String url = spec.substring(eq + 1, at > eq ? at : spec.length());
            int connections = at > eq ? Integer.parseInt(spec.substring(at + 1)) : 1;
            if (eq <= 0 || !url.startsWith("dubbo://") || connections < 1 || connections > 16) {
                throw new IllegalArgumentException("--target name=dubbo://host:port[@connections 1..16], got " + spec);
            }
            return new Target(spec.substring(0, eq), url, connections);
        }
    }

    /** Parsed command line; every bound has a default so a bare run stays short. */
    record Options(List<Target> targets, String call, int threads, int rounds, long requests, double seconds,
                   double warmupSeconds, double initialWarmupSeconds, int users, double rate, boolean checkVersions,
                   String callsOut, String stopFile) {

        static Options parse(String[] args) {
            List<Target> targets = new ArrayList<>();
            String call = "echo";
            int threads = 16;
            int rounds = 1;
            long requests = 200_000;
            double seconds = 10;
            double warmup = 1;
            double initialWarmup = 3;
            int users = 0;
            double rate = 0;
            boolean checkVersions = false;
            String callsOut = null;
            String stopFile = null;
            for (int i = 0; i + 1 < args.length; i += 2) {
                String value = args[i + 1];
                switch (args[i]) {
                    case "--url" -> targets.add(new Target("provider", value, 1));
                    case "--target" -> targets.add(Target.parse(value));
                    case "--call" -> call = value;
                    case "--threads" -> threads = Integer.parseInt(value);
                    case "--rounds" -> rounds = Integer.parseInt(value);
                    case "--requests" -> requests = Long.parseLong(value);
                    case "--seconds" -> seconds = Double.parseDouble(value);
                    case "--warmup-seconds" -> warmup = Double.parseDouble(value);
                    case "--initial-warmup-seconds" -> initialWarmup = Double.parseDouble(value);
                    case "--users" -> users = Integer.parseInt(value);
                    case "--rate" -> rate = Double.parseDouble(value);
                    case "--check-versions" -> checkVersions = !value.equals("0");
                    case "--calls-out" -> callsOut = value;
                    case "--stop-file" -> stopFile = value;
                    default -> throw new IllegalArgumentException("unknown option " + args[i]);
                }
            }
            if (targets.isEmpty()) {
                throw new IllegalArgumentException("--url dubbo://host:port or --target name=url[@connections] required");
            }
            for (String one : call.split(",")) {
                if (!one.equals("echo") && !one.equals("recommend")) {
                    throw new IllegalArgumentException("--call must be echo, recommend or both, comma-separated");
                }
            }
            if (threads < 1 || threads > 256 || rounds < 1 || rounds > 10 || requests < 1
                    || seconds <= 0 || seconds > 600 || warmup < 0 || warmup > 60 || initialWarmup < 0
                    || initialWarmup > 60 || users < 0 || rate < 0 || rate > 100_000) {
                throw new IllegalArgumentException("out-of-range bound (threads 1..256, rounds 1..10, "
                        + "seconds 0..600, warmups 0..60, rate 0..100000)");
            }
            return new Options(targets, call, threads, rounds, requests, seconds, warmup, initialWarmup, users, rate,
                    checkVersions, callsOut, stopFile);
        }
    }

    public static void main(String[] args) throws InterruptedException, IOException {
        Options options = Options.parse(args);
        String[] calls = options.call().split(",");

        // One Dubbo application per target, so references and connections never mix.
        List<DubboBootstrap> bootstraps = new ArrayList<>();
        List<RecommendService> services = new ArrayList<>();
        for (Target target : options.targets()) {
            ApplicationConfig application = new ApplicationConfig("recsys-rpc-bench-" + target.name());
            application.setQosEnable(false);
            ReferenceConfig<RecommendService> reference = new ReferenceConfig<>();
            reference.setInterface(RecommendService.class);
            reference.setVersion(RecommendService.VERSION);
            reference.setUrl(target.url());
            reference.setTimeout(5000);
            reference.setRetries(0);
            reference.setConnections(target.connections());
            bootstraps.add(DubboBootstrap.newInstance().application(application).reference(reference));
            services.add(reference.get());
        }

        // Warm both sides up once (JITs, connection buffers), then measure round after round,
        // target after target, so that outside load falls on all targets alike.
        for (int t = 0; t < services.size(); t++) {
            for (String call : calls) {
                run(call, options, services.get(t), (long) (options.initialWarmupSeconds() * 1e9), Long.MAX_VALUE,
                        null);
            }
        }
        for (int round = 1; round <= options.rounds(); round++) {
            for (int t = 0; t < services.size(); t++) {
                for (String call : calls) {
                    run(call, options, services.get(t), (long) (options.warmupSeconds() * 1e9), Long.MAX_VALUE, null);
                    System.out.println("measure-start");  // markers (not JSON) for callers that sample the provider
                    System.out.flush();
                    Result result = run(call, options, services.get(t), (long) (options.seconds() * 1e9),
                            options.requests(), options.stopFile());
                    System.out.println("measure-end");
                    if (options.callsOut() != null) {
                        result.writeCalls(Path.of(options.callsOut()));
                    }
                    System.out.println(result.json(round, options.targets().get(t), call, options));
                    System.out.flush();
                }
            }
        }
        bootstraps.forEach(DubboBootstrap::destroy);
        System.exit(0);
    }

    /** Artifact versions seen in answers, numbered in order of first sight (shared by all threads). */
    private static final Map<String, Integer> VERSIONS = new ConcurrentHashMap<>();
    private static final int UNCHECKED = -1;
    private static final int MIXED = -2;
    private static final Pattern VERSION = Pattern.compile("\"version\":\\s*\"([^\"]*)\"");

    /** Latencies of the calls one thread made, in nanoseconds; and, per call, when, how long, ok, version. */
    private static final class Recorder {
        long[] nanos = new long[1 << 14];
        int size;
        long errors;
        long degraded;
        long late;
        long mixed;
        long[] callStart = new long[1 << 12];
        long[] callNanos = new long[1 << 12];
        int[] callVersion = new int[1 << 12];
        boolean[] callOk = new boolean[1 << 12];
        int calls;

        void add(long value) {
            if (size == nanos.length) {
                nanos = Arrays.copyOf(nanos, size * 2);
            }
            nanos[size++] = value;
        }

        void call(long start, long took, boolean ok, int version) {
            if (calls == callStart.length) {
                callStart = Arrays.copyOf(callStart, calls * 2);
                callNanos = Arrays.copyOf(callNanos, calls * 2);
                callVersion = Arrays.copyOf(callVersion, calls * 2);
                callOk = Arrays.copyOf(callOk, calls * 2);
            }
            callStart[calls] = start;
            callNanos[calls] = took;
            callOk[calls] = ok;
            callVersion[calls++] = version;
        }
    }

    /** The one artifact version an answer ran on, {@code MIXED} if its parts disagree or carry none. */
    static int versionOf(Map<String, String> debugInfo) {
        if (debugInfo == null || !debugInfo.containsKey("artifacts")) {
            return MIXED;
        }
        String found = null;
        for (String document : debugInfo.values()) {
            Matcher matcher = VERSION.matcher(document);
            while (matcher.find()) {
                if (found == null) {
                    found = matcher.group(1);
                } else if (!found.equals(matcher.group(1))) {
                    return MIXED;
                }
            }
        }
        return found == null ? MIXED : VERSIONS.computeIfAbsent(found, v -> VERSIONS.size());
    }

    private record Result(long calls, long errors, long degraded, long late, double elapsedSeconds,
                          long[] sortedNanos, long mixed, List<Recorder> recorders, long startEpochMillis) {

        String versionsJson() {
            Map<Integer, String> names = new TreeMap<>();
            VERSIONS.forEach((name, index) -> names.put(index, name));
            Map<String, Long> counts = new TreeMap<>();
            for (Recorder r : recorders) {
                for (int i = 0; i < r.calls; i++) {
                    if (r.callVersion[i] >= 0) {
                        counts.merge(names.get(r.callVersion[i]), 1L, Long::sum);
                    }
                }
            }
            StringBuilder out = new StringBuilder("{");
            counts.forEach((name, count) -> out.append(out.length() > 1 ? ", " : "").append('"').append(name)
                    .append("\": ").append(count));
            return out.append('}').toString();
        }

        void writeCalls(Path path) throws IOException {
            Map<Integer, String> names = new TreeMap<>();
            VERSIONS.forEach((name, index) -> names.put(index, name));
            try (PrintWriter out = new PrintWriter(Files.newBufferedWriter(path, StandardCharsets.UTF_8))) {
                out.println("epoch_ms,latency_us,ok,version");
                for (Recorder r : recorders) {
                    for (int i = 0; i < r.calls; i++) {
                        int version = r.callVersion[i];
                        String name = version >= 0 ? names.get(version) : version == MIXED ? "MIXED" : "";
                        out.printf(Locale.ROOT, "%.3f,%.1f,%d,%s%n", startEpochMillis + r.callStart[i] / 1e6,
                                r.callNanos[i] / 1e3, r.callOk[i] ? 1 : 0, name);
                    }
                }
            }
        }

        double percentileMicros(double p) {
            if (sortedNanos.length == 0) {
                return Double.NaN;
            }
            int index = (int) Math.ceil(p * sortedNanos.length) - 1;
            return sortedNanos[Math.max(0, Math.min(index, sortedNanos.length - 1))] / 1000.0;
        }

        String json(int round, Target target, String call, Options o) {
            return String.format(Locale.ROOT,
                    "{\"round\": %d, \"target\": \"%s\", \"url\": \"%s\", \"call\": \"%s\", \"threads\": %d, "
                            + "\"connections\": %d, \"rate\": %.1f, \"calls\": %d, "
                            + "\"errors\": %d, \"degraded\": %d, \"late\": %d, \"seconds\": %.3f, \"throughput\": %.1f, "
                            + "\"p50_us\": %.1f, \"p99_us\": %.1f, \"p999_us\": %.1f, \"max_us\": %.1f, "
                            + "\"mixed\": %d, \"versions\": %s, \"error_kinds\": %s}",
                    round, target.name(), target.url(), call, o.threads(), target.connections(), o.rate(), calls, errors,
                    degraded, late, elapsedSeconds,
                    calls / elapsedSeconds, percentileMicros(0.50), percentileMicros(0.99),
                    percentileMicros(0.999), percentileMicros(1.0), mixed, versionsJson(), errorKindsJson());
        }
    }

    private static Result run(String call, Options options, RecommendService service, long durationNanos,
            long maxCalls, String stopFile) throws InterruptedException {
        EchoService echo = (EchoService) service;
        boolean isEcho = call.equals("echo");
        AtomicLong remaining = new AtomicLong(maxCalls);
        AtomicLong tickets = new AtomicLong();
        double periodNanos = options.rate() > 0 ? 1e9 / options.rate() : 0;
        List<Recorder> recorders = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        CountDownLatch start = new CountDownLatch(1);
        long[] window = new long[2];
        VERSIONS.clear();
        for (int t = 0; t < options.threads(); t++) {
            Recorder recorder = new Recorder();
            final int thread = t;
            recorders.add(recorder);
            Thread worker = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                long deadline = window[0] + durationNanos;
                if (periodNanos > 0) {  // open loop: take the next scheduled call, wait for its time
                    while (remaining.getAndDecrement() > 0) {
                        long ticket = tickets.getAndIncrement();
                        long scheduled = window[0] + (long) (ticket * periodNanos);
                        if (scheduled >= deadline) {
                            break;
                        }
                        long wait = scheduled - System.nanoTime();
                        while (wait > 0) {
                            LockSupport.parkNanos(wait);
                            wait = scheduled - System.nanoTime();
                        }
                        if (wait < -1_000_000) {
                            recorder.late++;
                        }
                        one(isEcho, echo, service, options, ticket, recorder, scheduled, window[0]);
                    }
                    return;
                }
                long n = 0;
                while (remaining.getAndDecrement() > 0) {
                    long began = System.nanoTime();
                    if (began >= deadline) {
                        break;
                    }
                    one(isEcho, echo, service, options, n * options.threads() + thread, recorder, began, window[0]);
                    n++;
                }
            }, "load-" + t);
            threads.add(worker);
            worker.start();
        }
        Thread watcher = null;
        if (stopFile != null) {  // ends the phase: no call scheduled or sent after the file appears
            Path stop = Path.of(stopFile);
            watcher = new Thread(() -> {
                while (!Files.exists(stop)) {
                    try {
                        Thread.sleep(100);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                remaining.set(0);
            }, "stop-file");
            watcher.setDaemon(true);
            watcher.start();
        }
        long startEpochMillis = System.currentTimeMillis();
        window[0] = System.nanoTime();
        start.countDown();
        for (Thread worker : threads) {
            worker.join();
        }
        if (watcher != null) {
            watcher.interrupt();
        }
        long elapsed = System.nanoTime() - window[0];

        int total = recorders.stream().mapToInt(r -> r.size).sum();
        long[] all = new long[total];
        int at = 0;
        long errors = 0;
        long degraded = 0;
        long late = 0;
        long mixed = 0;
        for (Recorder r : recorders) {
            System.arraycopy(r.nanos, 0, all, at, r.size);
            at += r.size;
            errors += r.errors;
            degraded += r.degraded;
            late += r.late;
            mixed += r.mixed;
        }
        Arrays.sort(all);
        return new Result(total, errors, degraded, late, elapsed / 1e9, all, mixed, recorders, startEpochMillis);
    }

    /** Call number {@code n} (it picks the user); its latency is counted from {@code since} (nanoTime). */
    /** Why calls failed, counted by kind (an exception's class and first words, a code, a short answer). */
    private static final Map<String, AtomicLong> ERROR_KINDS = new ConcurrentHashMap<>();

    private static void failed(String kind) {
        String key = kind.length() > 120 ? kind.substring(0, 120) : kind;
        ERROR_KINDS.computeIfAbsent(key, k -> new AtomicLong()).incrementAndGet();
    }

    static String errorKindsJson() {
        StringBuilder out = new StringBuilder("{");
        for (Map.Entry<String, AtomicLong> e : new TreeMap<>(ERROR_KINDS).entrySet()) {
            if (out.length() > 1) {
                out.append(", ");
            }
            String key = e.getKey().replace("\\", "\\\\").replace("\"", "\\\"").replaceAll("[\\x00-\\x1f]", " ");
            out.append('"').append(key).append("\": ").append(e.getValue().get());
        }
        return out.append('}').toString();
    }

    private static void one(boolean isEcho, EchoService echo, RecommendService service, Options options, long n,
            Recorder recorder, long since, long windowStart) {
        int version = UNCHECKED;
        boolean ok = false;
        try {
            if (isEcho) {
                String payload = "ping-" + n;
                ok = payload.equals(echo.$echo(payload));
            } else {
                String user = options.users() > 0
                        ? String.valueOf(1 + n % options.users())
                        : "user-" + (n % options.threads()) + "-" + (n / options.threads() % 1000);
                RecommendRequest request = new RecommendRequest(user, "home", RECOMMEND_COUNT);
                request.setDebug(options.checkVersions());
                RecommendResponse r = service.recommend(request);
                ok = r.getCode() == 200 && r.getItems().size() == RECOMMEND_COUNT;
                if (!ok) {
                    int items = r.getItems() == null ? 0 : r.getItems().size();
                    failed("code " + r.getCode() + ", " + items + " items: " + r.getMessage());
                }
                if (ok && !"full".equals(r.getPipeline())) {
                    recorder.degraded++;
                }
                if (ok && options.checkVersions()) {
                    version = versionOf(r.getDebugInfo());
                    if (version == MIXED) {
                        recorder.mixed++;
                    }
                }
            }
            if (ok) {
                recorder.add(System.nanoTime() - since);
            } else {
                recorder.errors++;
            }
        } catch (RuntimeException e) {
            recorder.errors++;
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            String first = String.valueOf(root.getMessage()).split("\\.", 2)[0];  // Dubbo's messages run long
            failed(e.getClass().getSimpleName() + " <- " + root.getClass().getSimpleName() + ": " + first);
        }
        if (options.callsOut() != null || options.checkVersions()) {
            recorder.call(since - windowStart, System.nanoTime() - since, ok, version);
        }
    }
}
