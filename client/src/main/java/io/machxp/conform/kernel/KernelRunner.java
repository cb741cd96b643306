package io.machxp.conform.kernel;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.machxp.conform.CaseExecutor;
import io.machxp.conform.CaseResult;
import io.machxp.conform.ConformCase;
import io.machxp.conform.ConformRunner;
import io.machxp.conform.Violation;
import io.machxp.proto.task.MachTaskGrpc;
import io.machxp.proto.task.TaskCreateRequest;
import io.machxp.proto.task.TaskTerminateRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Runs the kernel cases against a kernel under test that is connected to the kit's pager.
 * <pre>
 *  wait for the kernel   -> its first session on the kit's pager, then its task interface READY and
 *                           taking calls: Unreachable (exit 3) if either does not come in time
 *  each case             -> its own probe, task and objects; PASS / FAIL / SKIP / ERROR as for the
 *                           pager kit; the lease cases get three leases on top of the timeout
 * </pre>
 */
public final class KernelRunner {
    /**
     * @param caseTimeout how long a case waits for the kernel's answers
     * @param connectTimeout how long the kernel may take to connect to the kit's pager and serve
     *     its task interface
     */
    public record Options(Duration caseTimeout, Duration connectTimeout) {}

    private KernelRunner() {}

    public static List<CaseResult> run(FakePager pager, ManagedChannel tasks, List<ConformCase<KernelProbe>> cases,
            Options options, Consumer<CaseResult> progress) throws ConformRunner.Unreachable {
        awaitKernel(pager, tasks, options.connectTimeout());
        String runId = HexFormat.of().toHexDigits((short) ThreadLocalRandom.current().nextInt());
        KernelProbe.Run run = new KernelProbe.Run(pager, tasks, runId);
        List<CaseResult> results = new ArrayList<>();
        try (CaseExecutor executor = new CaseExecutor()) {
            for (ConformCase<KernelProbe> c : cases) {
                long started = System.nanoTime();
                long budget = options.caseTimeout().toNanos()
                        + (c.waitsLeases() ? 3 * TimeUnit.MILLISECONDS.toNanos(pager.leaseMillis()) : 0);
                KernelProbe probe = new KernelProbe(run, c.id(), started + budget);
                CaseResult r = executor.run(c, probe, started, budget, TimeUnit.SECONDS.toNanos(10));
                results.add(r);
                progress.accept(r);
            }
        }
        return results;
    }

    /** The kernel's session on the kit's pager, then its task interface taking calls. */
    private static void awaitKernel(FakePager pager, ManagedChannel tasks, Duration timeout)
            throws ConformRunner.Unreachable {
        long until = System.nanoTime() + timeout.toNanos();
        try {
            pager.awaitSession(null, until);
        } catch (Violation e) {
            throw new ConformRunner.Unreachable("no kernel connected to the kit's pager on port " + pager.port()
                    + " within " + timeout.toMillis() + " ms; start the kernel with --pager pointing there");
        }
        ConformRunner.awaitReady(tasks, Duration.ofNanos(Math.max(1, until - System.nanoTime())));
        // a kernel answers UNAVAILABLE until its session is open: a first task says it serves
        while (true) {
            try {
                long task = MachTaskGrpc.newBlockingStub(tasks).withDeadlineAfter(5, TimeUnit.SECONDS)
                        .taskCreate(TaskCreateRequest.newBuilder().setName("conform-ready").build()).getTask();
                MachTaskGrpc.newBlockingStub(tasks).withDeadlineAfter(5, TimeUnit.SECONDS)
                        .taskTerminate(TaskTerminateRequest.newBuilder().setTask(task).build());
                return;
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() != Status.Code.UNAVAILABLE || System.nanoTime() > until) {
                    throw new ConformRunner.Unreachable("the kernel's task interface does not take calls: "
                            + e.getStatus());
                }
                java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20)); // not serving yet
            }
        }
    }
}
