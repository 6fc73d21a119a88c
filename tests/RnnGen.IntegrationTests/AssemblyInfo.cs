// Each test runs `dotnet` builds that use both cores; running them one at a time keeps the machine responsive
// and the timings printed by the tests meaningful.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
