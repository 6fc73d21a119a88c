using System.Runtime.ExceptionServices;

namespace RnnGen;

/// <summary>
/// A fixed team of threads that run one job together, again and again, without allocating per run: the calling thread
/// is worker 0, the others are dedicated background threads woken through one monitor. <see cref="Run"/> returns when
/// every worker has finished the job and rethrows the first exception any of them threw.
/// </summary>
internal sealed class WorkerTeam : IDisposable
{
    private readonly object _gate = new();
    private readonly Thread[] _helpers;
    private readonly Action<int> _job;
    private int _generation;   // incremented by every Run; helpers wait for a change
    private int _busy;         // helpers still working on the current generation
    private bool _stopping;
    private Exception? _error;

    /// <summary>Starts <paramref name="workers"/> − 1 helper threads that will run <paramref name="job"/>(workerIndex).</summary>
    public WorkerTeam(int workers, Action<int> job)
    {
        _job = job;
        _helpers = new Thread[workers - 1];
        for (int i = 0; i < _helpers.Length; i++)
        {
            int index = i + 1;
            _helpers[i] = new Thread(() => HelperLoop(index))
            {
                IsBackground = true,
                Name = $"RnnGen trainer worker {index}",
            };
            _helpers[i].Start();
        }
    }

    /// <summary>Number of workers, the calling thread included.</summary>
    public int Count => _helpers.Length + 1;

    /// <summary>Runs the job on every worker and waits for all of them.</summary>
    public void Run()
    {
        if (_helpers.Length > 0)
        {
            lock (_gate)
            {
                _generation++;
                _busy = _helpers.Length;
                Monitor.PulseAll(_gate);
            }
        }

        try
        {
            _job(0);
        }
        catch (Exception e)
        {
            Record(e);
        }

        if (_helpers.Length > 0)
        {
            lock (_gate)
            {
                while (_busy > 0) Monitor.Wait(_gate);
            }
        }

        Exception? error = Interlocked.Exchange(ref _error, null);
        if (error is not null)
            ExceptionDispatchInfo.Throw(error);
    }

    private void HelperLoop(int index)
    {
        int seen = 0;
        while (true)
        {
            lock (_gate)
            {
                while (_generation == seen && !_stopping) Monitor.Wait(_gate);
                if (_stopping) return;
                seen = _generation;
            }

            try
            {
                _job(index);
            }
            catch (Exception e)
            {
                Record(e);
            }

            lock (_gate)
            {
                if (--_busy == 0) Monitor.PulseAll(_gate);
            }
        }
    }

    private void Record(Exception e) => Interlocked.CompareExchange(ref _error, e, null);

    /// <summary>Stops and joins the helper threads.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _stopping = true;
            Monitor.PulseAll(_gate);
        }
        foreach (var t in _helpers) t.Join();
    }
}
