package io.machxp.pager.net;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.rpc.ErrorInfo;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.StreamObserver;
import io.machxp.pager.Pager;
import io.machxp.pager.lib.XpPager;
import io.machxp.pager.policy.GrantPolicy;
import io.machxp.pager.policy.PoisonedGrantPolicy;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import io.machxp.proto.xp.MemoryObjectPagerGrpc;
import io.machxp.proto.xp.PagerToKernel;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A pager whose core throws on one kernel's message (here a grant policy plugged into it with a
 * bug) ends that kernel's session INTERNAL with errno EIO (xp-spec 3.3) and goes on serving the
 * others. Before, grpc-java ended the call UNKNOWN with no errno: the kernel took it for a broken
 * stream, resumed, and sent the same message again.
 */
class CoreFailureOverGrpcTest {
    private static final int POISON = 66;
    private static final int PAGE = 4096;

    /** A grant policy with a bug: it throws when asked about a waiter of priority {@link #POISON}. */
    private static final GrantPolicy FAILING = new PoisonedGrantPolicy(POISON);

    private Pager pager;
    private ManagedChannel channel;

    @BeforeEach
    void start() throws IOException {
        pager = XpPager.serve(new MemoryPageStore()).object("obj", 16L * PAGE).lease(Duration.ZERO).policy(FAILING)
                .start();
        channel = NettyChannelBuilder.forTarget(pager.target()).usePlaintext().build();
    }

    @AfterEach
    void close() {
        channel.shutdownNow();
        pager.close();
    }

    /** One kernel's Connect stream, spoken by hand. */
    private final class Kernel {
        final BlockingQueue<PagerToKernel> got = new LinkedBlockingQueue<>();
        final CompletableFuture<Throwable> end = new CompletableFuture<>();
        final StreamObserver<KernelToPager> out;

        Kernel(String name) throws InterruptedException {
            out = MemoryObjectPagerGrpc.newStub(channel).connect(new StreamObserver<>() {
                @Override
                public void onNext(PagerToKernel m) {
                    got.add(m);
                }

                @Override
                public void onError(Throwable t) {
                    end.complete(t);
                }

                @Override
                public void onCompleted() {
                    end.complete(null);
                }
            });
            out.onNext(KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(name)
                    .setProtocolVersion(1)).build());
            await(PagerToKernel.RoutineCase.PAGER_WELCOME);
            out.onNext(KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder().setObjectId(7)
                    .setName("obj").setPageSize(PAGE)).build());
            await(PagerToKernel.RoutineCase.MEMORY_OBJECT_READY);
        }

        void lock(long offset, int priority) {
            out.onNext(KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                    .setObjectId(7).setOffset(offset).setPriority(priority)).build());
        }

        void release(long offset, long token) {
            out.onNext(KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                    .setObjectId(7).setOffset(offset).setFencingToken(token)).build());
        }

        /** The next message of {@code kind}, skipping others (a lock_request, ...). */
        PagerToKernel await(PagerToKernel.RoutineCase kind) throws InterruptedException {
            while (true) {
                PagerToKernel m = got.poll(30, TimeUnit.SECONDS);
                assertThat(m).as("a %s within 30 s", kind).isNotNull();
                if (m.getRoutineCase() == kind) {
                    return m;
                }
            }
        }

        long granted() throws InterruptedException {
            return await(PagerToKernel.RoutineCase.MEMORY_OBJECT_FUTEX_GRANTED).getMemoryObjectFutexGranted()
                    .getFencingToken();
        }
    }

    @Test
    void aMessageTheCoreFailsOnEndsThatSessionWithEioAndThePagerServesTheOthers() throws Exception {
        Kernel a = new Kernel("A");
        Kernel b = new Kernel("B");
        Kernel c = new Kernel("C");
        a.lock(0, 0);
        long first = a.granted();

        b.lock(0, POISON); // the grant policy throws inside the core
        Throwable t = b.end.get(30, TimeUnit.SECONDS);
        assertThat(t).as("B's stream ended with an error").isNotNull();
        assertThat(Status.fromThrowable(t).getCode()).isEqualTo(Status.Code.INTERNAL);
        assertThat(Status.fromThrowable(t).getDescription()).contains("memory_object_lock_futex")
                .contains("the session is over");
        com.google.rpc.Status details = StatusProto.fromThrowable(t);
        assertThat(details).isNotNull();
        assertThat(details.getDetailsList()).singleElement().satisfies(any -> {
            ErrorInfo info = any.unpack(ErrorInfo.class);
            assertThat(info.getDomain()).isEqualTo("machxp");
            assertThat(info.getReason()).isEqualTo("EIO");
        });

        c.lock(0, 0);
        a.release(0, first);
        long second = c.granted();
        assertThat(second).as("C is granted the futex A gave back").isGreaterThan(first);
        c.release(0, second);
        a.lock(0, 0);
        assertThat(a.granted()).as("and A again").isGreaterThan(second);
        assertThat(a.end).as("A's session goes on").isNotDone();
        assertThat(c.end).as("C's session goes on").isNotDone();
    }
}
