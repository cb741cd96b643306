package io.machxp.kernel.shm;

import static io.machxp.proto.shm.ShmLayout.INT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.machxp.proto.shm.CallLayout;
import io.machxp.proto.shm.ShmLayout;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The call file served by the kernel core's own event loop ({@link CallLoop}): a call posted
 * while the core sleeps in its select is taken when its bell rings, one posted while the core is
 * busy is taken at its next turn without a ring, every call is taken and answered on the loop's
 * thread, a client's cancel reaches the call there, and a session that ends while the core
 * sleeps wakes its waiting clients and lets the loop shut down. The test plays the task
 * process's part on the file and the bell socket as the client library does.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CallLoopTest {
    /** A method the test's dispatcher takes and leaves unanswered (it records a cancel instead). */
    private static final int UNANSWERED = 99;

    @TempDir
    Path dir;
    private final CallLoop calls = new CallLoop();
    private final MultiThreadIoEventLoopGroup group =
            new MultiThreadIoEventLoopGroup(1, calls.ioHandlerFactory(NioIoHandler.newFactory()));
    private final EventLoop loop = group.next();
    private final List<Thread> takenOn = new CopyOnWriteArrayList<>();
    private final List<Thread> cancelledOn = new CopyOnWriteArrayList<>();
    private SharedMemory memory;
    private ByteBuffer file;
    private SocketChannel bell;
    private int slot;

    @BeforeEach
    void serve() throws Exception {
        // Without a timer the loop's select wakes every second to purge timers; with one an hour
        // away, nothing but the bell (or a task) wakes a sleeping loop during a test.
        loop.schedule(() -> { }, 1, TimeUnit.HOURS);
        memory = SharedMemory.create(dir, "T", 1, calls);
        slot = memory.attach(1, ProcessHandle.current().pid());
        CallReader reader = memory.calls();
        loop.submit(() -> reader.serve((call, method, request) -> {
            takenOn.add(Thread.currentThread());
            if (method == UNANSWERED) {
                call.onCancel(() -> cancelledOn.add(Thread.currentThread()));
            } else {
                call.answer(CallLayout.REPLY, request); // an echo, from the thread that took it
            }
        })).get(10, TimeUnit.SECONDS);
        file = ShmLayout.map(reader.file());
        bell = SocketChannel.open(StandardProtocolFamily.UNIX);
        bell.connect(UnixDomainSocketAddress.of(Path.of(CallLayout.bellFile(reader.file().toString()))));
    }

    @AfterEach
    void close() throws Exception {
        bell.close();
        memory.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
    }

    private int at() {
        return CallLayout.slot(slot);
    }

    /** Posts call {@code n} as a client does; rings the bell only if the core said it is asleep. */
    private void post(int n, int method, byte[] request) throws Exception {
        INT.set(file, at() + CallLayout.METHOD, method);
        INT.set(file, at() + CallLayout.REQUEST_LENGTH, request.length);
        file.put(at() + CallLayout.PAYLOAD_AT, request);
        INT.setVolatile(file, at(), CallLayout.state(n, CallLayout.POSTED));
        INT.getAndAdd(file, CallLayout.DOORBELL, 1);
    }

    private void ringIfAsleep() throws Exception {
        if (asleep()) {
            bell.write(ByteBuffer.wrap(new byte[] {1}));
        }
    }

    private boolean asleep() {
        return (int) INT.getVolatile(file, CallLayout.ASLEEP) != 0;
    }

    private int state() {
        return (int) INT.getVolatile(file, at());
    }

    private byte[] answer() {
        byte[] b = new byte[(int) INT.get(file, at() + CallLayout.ANSWER_LENGTH)];
        file.get(at() + CallLayout.PAYLOAD_AT, b);
        return b;
    }

    @Test
    void aCallToASleepingCoreWaitsForItsRingAndIsTakenOnTheCoreThread() throws Exception {
        await().atMost(Duration.ofSeconds(30)).until(this::asleep); // nothing queued, no timer: blocked in select
        post(1, 5, new byte[] {7, 8});
        assertThat(CallLayout.phase(state())).as("nothing wakes a sleeping core but its bell").isEqualTo(CallLayout.POSTED);
        ringIfAsleep();
        await().atMost(Duration.ofSeconds(30)).until(() -> state() == CallLayout.state(1, CallLayout.ANSWERED));
        assertThat(answer()).containsExactly(7, 8);
        assertThat(takenOn).hasSize(1);
        assertThat(loop.inEventLoop(takenOn.get(0))).as("taken and answered on the core's thread").isTrue();
    }

    @Test
    void aCallPostedWhileTheCoreIsBusyNeedsNoRingAndIsTakenAtItsNextTurn() throws Exception {
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        loop.execute(() -> {
            running.countDown();
            try {
                release.await(); // the core busy with other work (test only)
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertThat(running.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(asleep()).as("a busy core is awake: clients post without ringing").isFalse();
        post(1, 5, new byte[] {3});
        ringIfAsleep();
        assertThat(CallLayout.phase(state())).isEqualTo(CallLayout.POSTED);
        release.countDown();
        await().atMost(Duration.ofSeconds(30)).until(() -> state() == CallLayout.state(1, CallLayout.ANSWERED));
        assertThat(answer()).containsExactly(3);
        assertThat(loop.inEventLoop(takenOn.get(0))).isTrue();
    }

    @Test
    void aClientsCancelReachesItsCallOnTheCoreThread() throws Exception {
        post(1, UNANSWERED, new byte[0]);
        ringIfAsleep();
        await().atMost(Duration.ofSeconds(30)).until(() -> state() == CallLayout.state(1, CallLayout.TAKEN));
        assertThat(INT.compareAndSet(file, at(), CallLayout.state(1, CallLayout.TAKEN),
                CallLayout.state(1, CallLayout.CANCELLED))).isTrue();
        INT.getAndAdd(file, CallLayout.DOORBELL, 1);
        ringIfAsleep();
        await().atMost(Duration.ofSeconds(30)).until(() -> cancelledOn.size() == 1);
        assertThat(loop.inEventLoop(cancelledOn.get(0))).isTrue();
    }

    /**
     * A later kernel of the same name and session number in this process (a second embedded
     * cluster, or the next test) gets files and a bell of its own: a task process keeps its bell
     * connections by path, and a connection to the earlier, closed bell would wake nobody - every
     * call to the new core would wait for some other reason to wake it.
     */
    @Test
    void aLaterSessionOfTheSameKernelHasItsOwnCallFileAndBell() throws Exception {
        Path first = memory.calls().file();
        memory.close();
        memory = SharedMemory.create(dir, "T", 1, calls);
        slot = memory.attach(1, ProcessHandle.current().pid());
        CallReader reader = memory.calls();
        assertThat(reader.file()).isNotEqualTo(first);
        assertThat(CallLayout.bellFile(reader.file().toString())).isNotEqualTo(CallLayout.bellFile(first.toString()));
        loop.submit(() -> reader.serve((call, method, request) -> call.answer(CallLayout.REPLY, request)))
                .get(10, TimeUnit.SECONDS);
        file = ShmLayout.map(reader.file());
        bell.close();
        bell = SocketChannel.open(StandardProtocolFamily.UNIX);
        bell.connect(UnixDomainSocketAddress.of(Path.of(CallLayout.bellFile(reader.file().toString()))));

        await().atMost(Duration.ofSeconds(30)).until(this::asleep);
        post(1, 5, new byte[] {3});
        ringIfAsleep();
        await().atMost(Duration.ofSeconds(30)).until(() -> state() == CallLayout.state(1, CallLayout.ANSWERED));
        assertThat(answer()).containsExactly(3);
    }

    /**
     * A bell the loop's select cannot watch (review L8): before, the file was served anyway, the
     * core said it slept and clients rang a socket nobody watched, so their calls waited for some
     * other wake-up. Now the file is refused (closed: clients use gRPC) and the loop goes on serving
     * the others.
     */
    @Test
    void aCallFileWhoseBellCannotBeWatchedIsRefused() throws Exception {
        SharedMemory other = SharedMemory.create(dir, "U", 1, calls);
        try {
            other.attach(1, ProcessHandle.current().pid());
            CallReader reader = other.calls();
            java.lang.reflect.Field server = CallBell.class.getDeclaredField("server");
            server.setAccessible(true);
            ((java.nio.channels.ServerSocketChannel) server.get(reader.bell())).close(); // the select cannot take it
            CallReader served = loop.submit(() -> other.serveCalls((call, method, request) -> { })).get(10, TimeUnit.SECONDS);
            assertThat(served).as("no call file is given out").isNull();
            ByteBuffer refused = ShmLayout.map(reader.file());
            assertThat((int) INT.getVolatile(refused, CallLayout.CLOSED)).as("a client that has it uses gRPC").isEqualTo(1);

            post(1, 5, new byte[] {4}); // the loop still serves the other file
            ringIfAsleep();
            await().atMost(Duration.ofSeconds(30)).until(() -> state() == CallLayout.state(1, CallLayout.ANSWERED));
        } finally {
            other.close();
        }
    }

    @Test
    void aSessionThatEndsWhileTheCoreSleepsWakesItsClientsAndTheLoopShutsDown() throws Exception {
        post(1, UNANSWERED, new byte[0]);
        ringIfAsleep();
        await().atMost(Duration.ofSeconds(30)).until(() -> state() == CallLayout.state(1, CallLayout.TAKEN));
        await().atMost(Duration.ofSeconds(30)).until(this::asleep);
        Path bellFile = Path.of(CallLayout.bellFile(memory.calls().file().toString()));
        assertThat(bellFile).exists();

        memory.close(); // the session ends (a client waiting in its slot is woken to find CLOSED)
        assertThat((int) INT.getVolatile(file, CallLayout.CLOSED)).isEqualTo(1);
        assertThat(Files.exists(bellFile)).as("the bell's socket file is deleted").isFalse();
        post(2, 5, new byte[] {1});
        try {
            ringIfAsleep(); // a late ring: the kernel's end of the connection is closed
        } catch (java.io.IOException closedByTheKernel) {
            // what a client's ring ignores: its call finds CLOSED
        }

        assertThat(group.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(group.isTerminated()).isTrue();
        assertThat(CallLayout.phase(state())).as("no call is taken after the session ended").isEqualTo(CallLayout.POSTED);
    }
}
