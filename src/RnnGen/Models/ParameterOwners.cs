using System.ComponentModel;
using System.Numerics;

namespace RnnGen;

/// <summary>
/// For generated code: which models own which parameter buffers, so that an optimizer given only a span
/// (<see cref="Optimizer{T}.Step(Span{T}, ReadOnlySpan{T})"/>) refreshes the packed weights of the model whose
/// <c>Parameters</c> it updated, as <see cref="Optimizer{T}.Step{TModel}(TModel)"/> does. A generated model registers
/// itself, weakly (the registry keeps no model alive), the first time its <c>Parameters</c> span is taken — the only way
/// to write its parameters.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class ParameterOwners
{
    /// <summary>
    /// Registers <paramref name="model"/> once: when <paramref name="registered"/> (a field of the model, zero at first)
    /// goes from 0 to 1.
    /// </summary>
    public static void Register<TModel, T>(TModel model, ref int registered)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        Registry<T>.Add(model, ref registered);
    }

    /// <summary>
    /// Called after <paramref name="parameters"/> were written: refreshes every live registered model whose
    /// <c>Parameters</c> overlap them (<c>ParametersChanged</c>). Allocates nothing.
    /// </summary>
    internal static void Changed<T>(ReadOnlySpan<T> parameters) where T : unmanaged, IFloatingPointIeee754<T> =>
        Registry<T>.Changed(parameters);

    /// <summary>Tests only: the entries kept for models of scalar type <typeparamref name="T"/>, live or not yet pruned.</summary>
    internal static int Count<T>() where T : unmanaged, IFloatingPointIeee754<T> => Registry<T>.Count;

    private abstract class Owner<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>Whether the model is collected (false), and if not, whether it owns part of <paramref name="parameters"/>.</summary>
        public abstract bool IsAlive(ReadOnlySpan<T> parameters, out bool owns);

        /// <summary>Refreshes the model's packed weights, if it is still alive.</summary>
        public abstract void Refresh();
    }

    private sealed class Owner<TModel, T>(TModel model) : Owner<T>
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly WeakReference<TModel> _model = new(model);

        public override bool IsAlive(ReadOnlySpan<T> parameters, out bool owns)
        {
            owns = false;
            if (!_model.TryGetTarget(out var model)) return false;
            owns = parameters.Overlaps(model.Parameters);
            return true;
        }

        public override void Refresh()
        {
            if (_model.TryGetTarget(out var model)) model.ParametersChanged();
        }
    }

    private static class Registry<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private static readonly List<Owner<T>> Owners = [];
        private static int _pruneAt = 64;

        public static int Count
        {
            get { lock (Owners) return Owners.Count; }
        }

        // the flag is set under the lock, after the entry is in the list: a thread that finds it set (and so does not
        // register) finds the model registered
        public static void Add<TModel>(TModel model, ref int registered) where TModel : class, IRecurrentModel<TModel, T>
        {
            lock (Owners)
            {
                if (registered != 0) return;
                Owners.Add(new Owner<TModel, T>(model));
                Volatile.Write(ref registered, 1);
                if (Owners.Count < _pruneAt) return;
                // drop the collected models' entries; amortised: the next pruning waits until the list has doubled
                Owners.RemoveAll(static o => !o.IsAlive(default, out _));
                _pruneAt = Math.Max(64, 2 * Owners.Count);
            }
        }

        public static void Changed(ReadOnlySpan<T> parameters)
        {
            // under the lock only the search (a span lies in one array, so one model at most owns it) and the pruning; the
            // repack runs after, so that threads stepping models of their own do not wait for each other's repacks
            Owner<T>? owner = null;
            lock (Owners)
            {
                for (int i = Owners.Count - 1; i >= 0; i--)
                {
                    if (Owners[i].IsAlive(parameters, out bool owns))
                    {
                        if (owns) owner = Owners[i];
                        continue;
                    }
                    Owners[i] = Owners[^1]; // collected: its entry goes
                    Owners.RemoveAt(Owners.Count - 1);
                }
            }
            owner?.Refresh();
        }
    }
}
