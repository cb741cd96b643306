package io.machxp.pager.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.machxp.pager.core.PagerStats;
import io.machxp.proto.admin.PagerStatusReply;
import io.machxp.proto.admin.PagerStatusRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * machxp status against a pager whose core is stuck (late4 review A2): the status requests wait for
 * the admin service's one status thread. Before, they queued without bound, and each, when its
 * turn came, asked the core and waited its 5 s even when its caller's deadline had long ended the
 * call. Here the "core" answers the first request only when the test lets it (a latch): the
 * requests whose calls were cancelled meanwhile are not asked of the core, and one request more
 * than the queue holds is refused at once, RESOURCE_EXHAUSTED with EAGAIN and a sentence.
 */
class StatusBacklogTest {
    private final CountDownLatch asked = new CountDownLatch(1);
    private final CountDownLatch unstick = new CountDownLatch(1);
    private final AtomicInteger asks = new AtomicInteger();
    private final PagerAdminService admin = new PagerAdminService(new PagerStats(), () -> {
        if (asks.incrementAndGet() == 1) {
            asked.countDown();
            try {
                unstick.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return PagerStatusReply.newBuilder().setPagerName("p").build();
    });

    @Test
    void requestsWhoseCallersLeftAreNotAskedOfTheCore() throws Exception {
        Call first = status();
        asked.await(); // the status thread waits for the stuck core
        List<Call> gone = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            gone.add(status());
        }
        gone.forEach(c -> c.cancelled = true); // their callers' deadlines passed
        Call last = status();
        unstick.countDown();
        last.answered.await(); // one thread, in order: every request before it was taken
        first.answered.await();
        assertThat(asks.get()).as("the first and the last: the cancelled ones were skipped").isEqualTo(2);
        assertThat(gone).allSatisfy(c -> assertThat(c.replies).isEmpty());
    }

    @Test
    void oneRequestMoreThanTheQueueHoldsIsRefusedAtOnce() throws Exception {
        Call first = status();
        asked.await();
        List<Call> waiting = new ArrayList<>();
        for (int i = 0; i < PagerAdminService.MAX_STATUS_WAITING; i++) {
            waiting.add(status());
        }
        Call refused = status();
        assertThat(refused.errors).hasSize(1);
        Status s = Status.fromThrowable(refused.errors.get(0));
        assertThat(s.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(s.getDescription()).startsWith("EAGAIN: " + PagerAdminService.MAX_STATUS_WAITING
                + " status requests already wait");
        com.google.rpc.Status detail = io.grpc.protobuf.StatusProto.fromThrowable(refused.errors.get(0));
        assertThat(detail.getDetails(0).unpack(com.google.rpc.ErrorInfo.class).getReason()).isEqualTo("EAGAIN");
        unstick.countDown();
        for (Call c : waiting) {
            c.answered.await(); // the queued ones are all answered once the core answers
            assertThat(c.errors).isEmpty();
        }
        first.answered.await();
    }

    private Call status() {
        Call c = new Call();
        admin.pagerStatus(PagerStatusRequest.getDefaultInstance(), c);
        return c;
    }

    /** The server side of a PagerStatus call; the test says when its caller has gone. */
    private static final class Call extends NoopServerCall<PagerStatusReply> {
        volatile boolean cancelled;
        final CountDownLatch answered = new CountDownLatch(1);
        final List<PagerStatusReply> replies = new java.util.concurrent.CopyOnWriteArrayList<>();
        final List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();

        @Override
        public boolean isCancelled() {
            return cancelled;
        }

        @Override
        public void onNext(PagerStatusReply value) {
            replies.add(value);
        }

        @Override
        public void onError(Throwable t) {
            errors.add(t);
            answered.countDown();
        }

        @Override
        public void onCompleted() {
            answered.countDown();
        }
    }
}
