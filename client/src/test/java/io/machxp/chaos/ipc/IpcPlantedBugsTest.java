package io.machxp.chaos.ipc;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.ipc.IpcPlants;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bugs planted inside the IPC core's logic ({@link IpcPlants}): the IPC chaos checker finds each
 * in small runs by the rule it breaks, and the unmodified cores pass the same seeds. Measured
 * ({@code PlantedBugSeeds}, docs/chaos.md), the unused send-once right needed 4 seeds, a renewal
 * keeping its kernel deaths 6 (a live port given to the renewed kernel after it arrives dead; before
 * renewals preferred kernels a port moved off), an own uid of an earlier session taken as dead 16
 * (a port moved off the renewed kernel given back to it after the renewal arrives dead) and every
 * other bug 1; the allowance is half again the most.
 */
public class IpcPlantedBugsTest {
    /** How many seeds a bug may need before the test fails. */
    private static final int SEEDS = 24;

    public static Stream<Arguments> plants() {
        return Stream.of(
                Arguments.of("a message jumps the queue", new IpcPlants() {
                    @Override
                    public boolean queuedAtTheEnd(boolean atTheEnd) {
                        return false;
                    }
                }, "out of order"),
                Arguments.of("a send right received into an existing name is lost", new IpcPlants() {
                    @Override
                    public int urefsAfterMerge(int urefs) {
                        return urefs - 1;
                    }
                }, "right lost"),
                Arguments.of("a dying port's dead-name requests are destroyed, not sent", new IpcPlants() {
                    @Override
                    public boolean deadNameSent(boolean notify) {
                        return false;
                    }
                }, "DEAD_NAME"),
                Arguments.of("an unused send-once right ends without SEND_ONCE", new IpcPlants() {
                    @Override
                    public boolean sendOnceSent(boolean notify) {
                        return false;
                    }
                }, "no SEND_ONCE"),
                Arguments.of("a message from another kernel is queued twice", new IpcPlants() {
                    @Override
                    public int timesQueuedFromLink(int times) {
                        return 2;
                    }
                }, "delivered twice"),
                Arguments.of("a kernel does not answer for a message it received", new IpcPlants() {
                    @Override
                    public boolean consumedAnswered(boolean answer) {
                        return false;
                    }
                }, "still charged"),
                Arguments.of("a renewal keeps the deaths of its own kernel deaths (live ports of others stay dead)",
                        new IpcPlants() {
                            @Override
                            public boolean deathKeptAtRenewal(boolean kept) {
                                return true;
                            }
                        }, "its right to p"),
                Arguments.of("an own uid of an earlier IPC session is taken as dead (own() with <=, review F1)",
                        new IpcPlants() {
                            @Override
                            public boolean ownUid(boolean sameSession, boolean earlierSession) {
                                return sameSession || earlierSession;
                            }
                        }, "its right to p"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("plants")
    void eachPlantedBugIsFoundAndTheRealCoresPassTheSameSeeds(String bug, IpcPlants plant, String expected) {
        IpcChaosRun.Result found = null;
        for (long seed = 1; seed <= SEEDS && found == null; seed++) {
            IpcChaosRun.Result r = new IpcChaosRun(seed, IpcChaosRunTest.SMALL).withPlants(plant).run();
            if (!r.passed()) {
                found = r;
            }
        }
        assertThat(found).as("%s: found within %d seeds", bug, SEEDS).isNotNull();
        assertThat(String.join("\n", found.violations())).contains(expected);
        for (long seed = 1; seed <= found.seed(); seed++) {
            assertThat(new IpcChaosRun(seed, IpcChaosRunTest.SMALL).run().violations()).as("seed %d", seed).isEmpty();
        }
    }
}
