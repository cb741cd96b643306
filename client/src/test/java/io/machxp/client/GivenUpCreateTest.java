package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.machxp.cluster.EmbeddedCluster;
import io.machxp.kernel.Kernel;
import io.machxp.kernel.LocalTask;
import io.machxp.kernel.net.MachTaskService;
import io.machxp.kernel.task.MachTask;
import io.machxp.proto.task.TaskCreateReply;
import io.machxp.proto.task.TaskCreateRequest;
import io.machxp.proto.task.ThreadCreateReply;
import io.machxp.proto.task.ThreadCreateRequest;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A TaskCreate or ThreadCreate its caller gave up on (deadline, cancel, disconnect) keeps
 * nothing: the task or thread is ended whether the call was cancelled before the core made it or
 * after its answer was sent (review rv58 HIGH-2: before, each such call left a task nobody could
 * name, counted to the peer's share for the kernel's session).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GivenUpCreateTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private EmbeddedCluster cluster;
    private Kernel kernel;
    private MachTaskService service;

    @BeforeEach
    void start() throws Exception {
        cluster = EmbeddedCluster.start(1, true, Map.of("obj", 64L * 1024));
        kernel = cluster.kernel(0);
        service = new MachTaskService(kernel);
    }

    @AfterEach
    void close() {
        cluster.close();
    }

    private MachTask task(long id) {
        return kernel.<MachTask>call(r -> r.complete(kernel.core().task(id)));
    }

    private int threadsOf(long id) {
        return kernel.<Integer>call(r -> r.complete(kernel.core().task(id).threads().size()));
    }

    @Test
    void aTaskCreateCancelledBeforeTheCoreMadeTheTaskKeepsNoTaskAndAnswersNothing() throws Exception {
        long before = kernel.taskCreate("first").id(); // task ids are consecutive: the given-up one is the next
        CancelledServerCall<TaskCreateReply> call = new CancelledServerCall<>();
        CoreBlocked.during(kernel, () -> {
            service.taskCreate(TaskCreateRequest.newBuilder().setName("given-up").build(), call);
            call.cancel();
        });
        long next = kernel.taskCreate("after").id(); // queued behind the given-up create
        assertThat(next).as("the given-up create made a task").isEqualTo(before + 2);
        assertThat(task(before + 1)).as("not kept").isNull();
        assertThat(call.answers()).isEmpty();
    }

    @Test
    void aTaskCreateCancelledAfterItsAnswerWasSentEndsTheTaskAndWithdrawsItsHandle() {
        CancelledServerCall<TaskCreateReply> call = new CancelledServerCall<>();
        service.taskCreate(TaskCreateRequest.newBuilder().setName("lost-reply").build(), call);
        await().atMost(WAIT).until(() -> call.answers().size() == 1);
        long handle = call.answers().get(0).getTask();
        long id = kernel.taskHandles().ref(handle).id();
        assertThat(task(id)).isNotNull();

        call.cancel(); // the reply was lost: the client's call ends non-OK, it never learns the handle
        assertThat(kernel.taskHandles().ref(handle)).as("the handle is withdrawn").isNull();
        await().atMost(WAIT).until(() -> task(id) == null);
    }

    @Test
    void aThreadCreateCancelledBeforeOrAfterTheCoreMadeTheThreadKeepsNoThread() throws Exception {
        LocalTask task = kernel.taskCreate("app");
        long handle = kernel.taskHandles().issue(task.id());
        CancelledServerCall<ThreadCreateReply> early = new CancelledServerCall<>();
        CoreBlocked.during(kernel, () -> {
            service.threadCreate(ThreadCreateRequest.newBuilder().setTask(handle).build(), early);
            early.cancel();
        });
        assertThat(threadsOf(task.id())).as("the thread made for nobody is not kept").isZero();
        assertThat(early.answers()).isEmpty();

        CancelledServerCall<ThreadCreateReply> late = new CancelledServerCall<>();
        service.threadCreate(ThreadCreateRequest.newBuilder().setTask(handle).build(), late);
        await().atMost(WAIT).until(() -> late.answers().size() == 1);
        assertThat(threadsOf(task.id())).isEqualTo(1);
        late.cancel();
        await().atMost(WAIT).until(() -> threadsOf(task.id()) == 0);
    }

    @Test
    void aTaskARetryWithItsTokenWasAnsweredStaysWhenTheFirstCallerGivesUpLate() {
        TaskCreateRequest create = TaskCreateRequest.newBuilder().setName("t").setCreateToken(31).build();
        CancelledServerCall<TaskCreateReply> first = new CancelledServerCall<>();
        service.taskCreate(create, first);
        await().atMost(WAIT).until(() -> first.answers().size() == 1);
        CancelledServerCall<TaskCreateReply> retry = new CancelledServerCall<>();
        service.taskCreate(create, retry);
        await().atMost(WAIT).until(() -> retry.answers().size() == 1);
        long handle = first.answers().get(0).getTask();
        assertThat(retry.answers().get(0).getTask()).isEqualTo(handle);

        first.cancel(); // the first caller's cancel lands late: the retry's caller holds the task now
        assertThat(kernel.taskHandles().ref(handle)).as("not withdrawn from the retry's caller").isNotNull();
    }
}
