package io.machxp.view;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.stub.StreamObserver;
import io.machxp.client.KernelClient;
import io.machxp.client.PagerAdminClient;
import io.machxp.proto.admin.PagerStatisticsReply;
import io.machxp.proto.admin.PagerStatusReply;
import io.machxp.proto.admin.PagerWatchEvent;
import io.machxp.proto.admin.XpMessageTrace;
import io.machxp.proto.task.KernelThreadsReply;
import io.machxp.proto.transport.Transport;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Where the view's data comes from: a PagerWatch stream from the pager (status, counters, the XP
 * messages it traced) and, on every tick, KernelThreads from each kernel given. Every
 * {@link #INTERVAL_MS} it publishes the state to the {@link ViewServer}. A stream that fails is
 * opened again on the next tick, so the view outlives a pager restart; the page shows the problem
 * meanwhile. Only the latest {@link #MESSAGES} messages and {@link #HANDOFFS} handoffs are kept.
 */
public final class ViewFeed implements AutoCloseable {
    static final int INTERVAL_MS = 250;
    static final int MESSAGES = 40;
    static final int HANDOFFS = 6;
    private static final Duration KERNEL_DEADLINE = Duration.ofSeconds(1);

    private final ViewServer server;
    private final PagerAdminClient pager;
    private final List<KernelClient> kernels = new ArrayList<>();
    private final ObjectMapper json = new ObjectMapper();
    private final ScheduledExecutorService ticks = Executors.newSingleThreadScheduledExecutor(r -> {
        java.lang.Thread t = new java.lang.Thread(r, "machxp-view");
        t.setDaemon(true);
        return t;
    });

    // ---- written by the watch stream's callbacks, read by ticks: guarded by this --------------
    private AutoCloseable watch;
    private String problem = "connecting to the pager";
    private PagerStatusReply status = PagerStatusReply.getDefaultInstance();
    private PagerStatisticsReply statistics;
    private final ArrayDeque<ViewState.Message> messages = new ArrayDeque<>();
    private final ArrayDeque<ViewState.Message> handoffs = new ArrayDeque<>();
    private long missed;
    // ---- ticks' thread only ---------------------------------------------------------------------
    private PagerStatisticsReply lastStatistics;
    private long lastNanos;

    private ViewFeed(ViewServer server, String pagerTarget, List<String> kernelTargets, Transport transport) {
        this.server = server;
        this.pager = PagerAdminClient.connect(pagerTarget, transport);
        for (String k : kernelTargets) {
            kernels.add(KernelClient.connect(k, transport, KERNEL_DEADLINE));
        }
    }

    /** Watches the pager at {@code pagerTarget} and the kernels at {@code kernelTargets}, publishing to {@code server}. */
    public static ViewFeed start(ViewServer server, String pagerTarget, List<String> kernelTargets,
            Transport transport) {
        ViewFeed feed = new ViewFeed(server, pagerTarget, kernelTargets, transport);
        feed.ticks.scheduleWithFixedDelay(feed::tick, 0, INTERVAL_MS, TimeUnit.MILLISECONDS);
        return feed;
    }

    private void tick() {
        try {
            ensureWatching();
            Map<String, KernelThreadsReply> threads = new LinkedHashMap<>();
            Map<String, String> kernelProblems = new LinkedHashMap<>();
            for (KernelClient k : kernels) {
                try {
                    KernelThreadsReply reply = k.threads();
                    threads.put(reply.getKernelName(), reply);
                } catch (RuntimeException e) {
                    kernelProblems.put(k.target(), "kernel " + k.target() + " does not answer: " + e.getMessage());
                }
            }
            String state;
            synchronized (this) {
                long now = System.nanoTime();
                ViewState.Rates rates = ViewState.rates(lastStatistics, statistics == null
                        ? PagerStatisticsReply.getDefaultInstance() : statistics, (now - lastNanos) / 1e9);
                lastStatistics = statistics;
                lastNanos = now;
                kernelProblems.forEach((target, why) -> threads.putIfAbsent(target,
                        KernelThreadsReply.newBuilder().setKernelName(target).build()));
                state = json.writeValueAsString(ViewState.of(pager.target(), problem, status, rates, threads,
                        kernelProblems, messages, handoffs, missed));
            }
            server.publish(state);
        } catch (JsonProcessingException | RuntimeException e) {
            org.slf4j.LoggerFactory.getLogger(ViewFeed.class).warn("machxp view: a tick failed: {}", e.toString());
        }
    }

    private synchronized void ensureWatching() {
        if (watch == null) {
            watch = pager.watch(INTERVAL_MS, MESSAGES, new StreamObserver<>() {
                @Override
                public void onNext(PagerWatchEvent event) {
                    received(event);
                }

                @Override
                public void onError(Throwable t) {
                    lost("the pager " + pager.target() + " does not answer (" + t.getMessage() + "); trying again");
                }

                @Override
                public void onCompleted() {
                    lost("the pager " + pager.target() + " ended the watch; trying again");
                }
            });
        }
    }

    private synchronized void received(PagerWatchEvent event) {
        problem = null;
        status = event.getStatus();
        statistics = event.getStatistics();
        missed += event.getMessagesMissed();
        keep(messages, event.getMessagesList(), MESSAGES);
        keep(handoffs, event.getHandoffsList(), HANDOFFS);
    }

    private static void keep(ArrayDeque<ViewState.Message> into, List<XpMessageTrace> latest, int most) {
        for (XpMessageTrace m : latest) {
            into.addLast(ViewState.message(m));
            if (into.size() > most) {
                into.removeFirst();
            }
        }
    }

    private synchronized void lost(String why) {
        problem = why;
        watch = null;
    }

    @Override
    public void close() {
        ticks.shutdownNow();
        try {
            ticks.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            java.lang.Thread.currentThread().interrupt();
        }
        synchronized (this) {
            if (watch != null) {
                try {
                    watch.close();
                } catch (Exception ignored) {
                    // cancelling a call does not fail
                }
            }
        }
        kernels.forEach(KernelClient::close);
        pager.close();
    }
}
