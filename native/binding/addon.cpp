// Node-API binding over the native core: the export table and the Session wrapper.
//
// JS values are converted to plain C++ data before any work is queued (sharp's baton rule);
// long work (whole epochs) runs in an AsyncWorker and reports progress through a
// ThreadSafeFunction; every failure becomes a JS Error carrying `code` (NL_...), never an abort.
#include <napi.h>
#include <cmath>
#include <atomic>
#include <cstring>
#include <memory>
#include <new>
#include <vector>
#include "netloom.h"
#include "cuda-loader.h"

namespace {

Napi::Error make_error(Napi::Env env, nl_status code, const std::string & msg) {
    Napi::Error e = Napi::Error::New(env, msg);
    e.Set("code", Napi::String::New(env, nl_status_code(code)));
    return e;
}

[[noreturn]] void throw_status(Napi::Env env, const nl::Status & st) { throw make_error(env, st.code, st.message); }

[[noreturn]] void throw_arg(Napi::Env env, const std::string & msg) { throw make_error(env, NL_STATUS_INVALID_ARGUMENT, msg); }

// Sessions created and not yet closed or collected (liveSessions()): how a host checks that a run it
// closed let go of its memory and threads.
std::atomic<int64_t> live_sessions{0};

// Runs a binding method so that no C++ exception other than a Napi::Error (which node-addon-api
// turns into a JS exception) leaves it: an escaping std::bad_alloc would call std::terminate and
// take the host process down. Out of memory becomes an NL_OOM error, anything else NL_INTERNAL.
template <class F> auto js_guard(Napi::Env env, const char * doing, F && f) -> decltype(f()) {
    try {
        return f();
    } catch (const Napi::Error &) {
        throw;
    } catch (...) {
        const nl::Status st = nl::current_exception_status(doing);
        throw make_error(env, st.code, st.message);
    }
}

// A new ArrayBuffer of `bytes`; its failure is NL_OOM naming `what` and the size (not V8's bare
// "Array buffer allocation failed"). A large one is checked against the memory available and the
// address-space limit first: under RLIMIT_AS a failed ArrayBuffer allocation makes V8 collect
// garbage, the collector's own allocation fails, and V8 aborts the process (SIGABRT), so the
// request has to be refused before V8 sees it. 32 MiB stays free for V8's own heap to grow.
Napi::ArrayBuffer new_array_buffer(Napi::Env env, size_t bytes, const std::string & what) {
    if (bytes >= (size_t(1) << 20)) {
        const nl::Status st = nl::check_heap_room(bytes, uint64_t(32) << 20, what, "close other programs, or use a smaller model or batch");
        if (!st.ok()) throw make_error(env, st.code, st.message);
    }
    try {
        return Napi::ArrayBuffer::New(env, bytes);
    } catch (const Napi::Error &) {
        throw make_error(env, NL_STATUS_OUT_OF_MEMORY, "could not allocate " + nl::format_bytes(bytes) + " for " + what);
    }
}

struct ProgressMsg {
    nl::ProgressEvent ev;
};

class SessionWrap;

// Runs one epoch off the main thread; resolves with the epoch totals.
class EpochWorker : public Napi::AsyncWorker {
public:
    EpochWorker(Napi::Env env, SessionWrap * owner, Napi::Object self, nl::Split split, nl::EpochOptions opts,
                std::vector<int32_t> order, std::vector<float> lr, std::vector<float> momentum, Napi::Function progress);
    ~EpochWorker() override;
    Napi::Promise promise() { return deferred_.Promise(); }
    // Optional outputs (sized by runEpoch before Queue(); empty = not requested).
    std::vector<int32_t> predictions;
    std::vector<float> probabilities, outputs, losses;
    int classes = 0;
    void bind_outputs() {
        opts_.predictions = predictions.empty() ? nullptr : predictions.data();
        opts_.probabilities = probabilities.empty() ? nullptr : probabilities.data();
        opts_.outputs = outputs.empty() ? nullptr : outputs.data();
        opts_.batch_losses = losses.empty() ? nullptr : losses.data();
    }

protected:
    void Execute() override;
    void OnOK() override;
    void OnError(const Napi::Error & e) override;
    void resolve(Napi::Env env);

private:
    static void on_progress(void * ctx, const nl::ProgressEvent & ev);
    void finish();
    SessionWrap * owner_;
    Napi::ObjectReference self_;
    Napi::Promise::Deferred deferred_;
    nl::Split split_;
    nl::EpochOptions opts_;
    std::vector<int32_t> order_;
    std::vector<float> lr_, momentum_;
    bool has_progress_ = false;
    Napi::ThreadSafeFunction tsfn_;
    nl::Status status_;
    nl::EpochResult result_;
};

class SessionWrap : public Napi::ObjectWrap<SessionWrap> {
public:
    static Napi::Function define(Napi::Env env) {
        return DefineClass(env, "Session",
                           {InstanceMethod<&SessionWrap::set_buffer>("setBuffer"),
                            InstanceMethod<&SessionWrap::get_buffer>("getBuffer"),
                            InstanceMethod<&SessionWrap::set_dataset>("setDataset"),
                            InstanceMethod<&SessionWrap::set_dataset_f32>("setDatasetF32"),
                            InstanceMethod<&SessionWrap::run_epoch>("runEpoch"),
                            InstanceMethod<&SessionWrap::run_step>("runStep"),
                            InstanceMethod<&SessionWrap::stop>("stop"),
                            InstanceMethod<&SessionWrap::close>("close"),
                            InstanceAccessor<&SessionWrap::get_steps, &SessionWrap::set_steps>("steps"),
                            InstanceAccessor<&SessionWrap::get_seed, &SessionWrap::set_seed>("seed"),
                            InstanceAccessor<&SessionWrap::get_threads>("threads"),
                            InstanceAccessor<&SessionWrap::get_device>("device")});
    }

    // new Session(program, threads, { cuda?: index, tf32?: boolean }): on the CPU with `threads`
    // workers, or on CUDA device `cuda` (TF32 tensor cores unless tf32 is false). A GPU that is gone
    // or full comes back from cuda_backend_create as a Status, thrown as an NL_ error.
    SessionWrap(const Napi::CallbackInfo & info) : Napi::ObjectWrap<SessionWrap>(info) {
        Napi::Env env = info.Env();
        const char * usage = "new Session(program: Int32Array, threads: number, device?: { cuda?: number, tf32?: boolean })";
        if (info.Length() < 2 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
            !info[1].IsNumber() || (info.Length() > 2 && !info[2].IsUndefined() && !info[2].IsObject()))
            throw_arg(env, usage);
        auto words = info[0].As<Napi::Int32Array>();
        int threads = info[1].As<Napi::Number>().Int32Value();
        int cuda = -1;
        bool tf32 = true;
        if (info.Length() > 2 && info[2].IsObject()) {
            Napi::Object o = info[2].As<Napi::Object>();
            Napi::Value c = o.Get("cuda"), t = o.Get("tf32");
            if (!c.IsUndefined()) {
                const double v = c.IsNumber() ? c.As<Napi::Number>().DoubleValue() : -1;
                if (!(v >= 0) || v != std::floor(v) || v > 1024) throw_arg(env, "new Session: device.cuda must be a device index (0, 1, ...)");
                cuda = (int)v;
            }
            if (!t.IsUndefined()) {
                if (!t.IsBoolean()) throw_arg(env, "new Session: device.tf32 must be a boolean");
                tf32 = t.As<Napi::Boolean>().Value();
            }
        }
        nl::Status st;   // neither call throws
        if (cuda < 0) {
            st = nl::Session::create(words.Data(), words.ElementLength(), threads, session_);
        } else {
            std::unique_ptr<nl::Backend> backend;
            st = nl::cuda_backend_create(cuda, tf32, backend);
            if (st.ok()) st = nl::Session::create(words.Data(), words.ElementLength(), std::move(backend), session_);
        }
        if (!st.ok()) throw_status(env, st);
        // Datasets are read in place from the typed arrays JS passes (held in data_refs_): runs that
        // share a dataset in JS share its memory here too, and a session holds no copy of its own.
        session_->borrow_datasets(true);
        live_sessions++;
    }
    ~SessionWrap() override {
        if (session_) live_sessions--;
    }

    nl::Session * session() { return session_.get(); }
    bool busy = false;

private:
    void check_idle(Napi::Env env) {
        if (!session_) throw_arg(env, "the session has been closed");
        if (busy) throw_arg(env, "the session is running an epoch; wait for it or call stop() first");
    }
    nl::Session & open_session(Napi::Env env) {
        if (!session_) throw_arg(env, "the session has been closed");
        return *session_;
    }
    // Keeps the typed arrays of split `split`'s dataset alive while the core reads them (borrowed).
    void hold_dataset(int split, std::initializer_list<Napi::TypedArray> arrays) {
        int k = 0;
        for (auto & ref : data_refs_[split == 1]) ref.Reset();
        for (const Napi::TypedArray & a : arrays)
            if (!a.IsEmpty()) data_refs_[split == 1][k++] = Napi::Persistent(static_cast<Napi::Object>(a));
    }

    // close(): frees the session's memory and threads now, not whenever the garbage collector gets to
    // it; its datasets' arrays are let go. Not while an epoch runs. Every later call throws.
    Napi::Value close(const Napi::CallbackInfo & info) {
        Napi::Env env = info.Env();
        if (busy) throw_arg(env, "the session is running an epoch; stop it and wait for it before closing");
        if (session_) {
            session_.reset();
            live_sessions--;
        }
        for (auto & split : data_refs_)
            for (auto & ref : split) ref.Reset();
        return env.Undefined();
    }

    // setBuffer(id, Float32Array | Int32Array)
    Napi::Value set_buffer(const Napi::CallbackInfo & info) {
        Napi::Env env = info.Env();
        check_idle(env);
        if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsTypedArray()) throw_arg(env, "setBuffer(id: number, data: Float32Array | Int32Array)");
        int32_t id = info[0].As<Napi::Number>().Int32Value();
        auto ta = info[1].As<Napi::TypedArray>();
        const auto & bufs = session_->program().buffers;
        if (id < 0 || id >= (int32_t)bufs.size()) throw_arg(env, "setBuffer: no buffer " + std::to_string(id));
        napi_typedarray_type want = bufs[id].dtype == nl::DType::F32 ? napi_float32_array : napi_int32_array;
        if (ta.TypedArrayType() != want)
            throw_arg(env, "setBuffer: buffer " + std::to_string(id) + " takes a " + (want == napi_float32_array ? "Float32Array" : "Int32Array"));
        auto ab = ta.ArrayBuffer();
        const uint8_t * p = static_cast<const uint8_t *>(ab.Data()) + ta.ByteOffset();
        nl::Status st = session_->set_buffer(id, p, ta.ByteLength());
        if (!st.ok()) throw_status(env, st);
        return env.Undefined();
    }

    // getBuffer(id, rows?) -> Float32Array | Int32Array (a copy). rows limits a batched buffer.
    Napi::Value get_buffer(const Napi::CallbackInfo & info) {
        Napi::Env env = info.Env();
        check_idle(env);
        if (info.Length() < 1 || !info[0].IsNumber()) throw_arg(env, "getBuffer(id: number, rows?: number)");
        int32_t id = info[0].As<Napi::Number>().Int32Value();
        const auto & bufs = session_->program().buffers;
        if (id < 0 || id >= (int32_t)bufs.size()) throw_arg(env, "getBuffer: no buffer " + std::to_string(id));
        const nl::BufferDesc & d = bufs[id];
        size_t words = (size_t)d.words(session_->program().max_batch);
        if (d.batched && info.Length() > 1 && info[1].IsNumber()) {
            int rows = info[1].As<Napi::Number>().Int32Value();
            if (rows < 0 || rows > session_->program().max_batch) throw_arg(env, "getBuffer: rows out of range");
            words = (size_t)d.elems * rows;
        }
        auto ab = new_array_buffer(env, words * 4, "a copy of buffer " + std::to_string(id) + " (" + std::to_string(words) + " values)");
        nl::Status st = session_->get_buffer(id, ab.Data(), words * 4);
        if (!st.ok()) throw_status(env, st);
        if (d.dtype == nl::DType::F32) return Napi::Float32Array::New(env, words, ab, 0);
        return Napi::Int32Array::New(env, words, ab, 0);
    }

    // setDataset(split: 0|1, images: Uint8Array, labels: Uint8Array, count, sampleSize)
    Napi::Value set_dataset(const Napi::CallbackInfo & info) {
        Napi::Env env = info.Env();
        check_idle(env);
        if (info.Length() < 5 || !info[0].IsNumber() || !info[1].IsTypedArray() || !info[2].IsTypedArray() || !info[3].IsNumber() ||
            !info[4].IsNumber())
            throw_arg(env, "setDataset(split, images: Uint8Array, labels: Uint8Array, count, sampleSize)");
        int split = info[0].As<Napi::Number>().Int32Value();
        auto images = info[1].As<Napi::TypedArray>();
        auto labels = info[2].As<Napi::TypedArray>();
        int64_t count = info[3].As<Napi::Number>().Int64Value();
        int64_t sample = info[4].As<Napi::Number>().Int64Value();
        if (images.TypedArrayType() != napi_uint8_array || labels.TypedArrayType() != napi_uint8_array)
            throw_arg(env, "setDataset: images and labels must be Uint8Arrays");
        if (count < 0 || sample <= 0 || (int64_t)images.ByteLength() < count * sample || (int64_t)labels.ByteLength() < count)
            throw_arg(env, "setDataset: arrays are shorter than count x sampleSize");
        const uint8_t * ip = static_cast<const uint8_t *>(images.ArrayBuffer().Data()) + images.ByteOffset();
        const uint8_t * lp = static_cast<const uint8_t *>(labels.ArrayBuffer().Data()) + labels.ByteOffset();
        nl::Status st = session_->set_dataset(split == 1 ? nl::SPLIT_TEST : nl::SPLIT_TRAIN, ip, lp, count, sample);
        if (!st.ok()) throw_status(env, st);
        hold_dataset(split, {images, labels});
        return env.Undefined();
    }

    // setDatasetF32(split, features: Float32Array, labels: Uint8Array | null, targets: Float32Array | null,
    //               count, sampleSize, targetSize): a float dataset (CSV rows), features gathered as they are
    Napi::Value set_dataset_f32(const Napi::CallbackInfo & info) {
        Napi::Env env = info.Env();
        check_idle(env);
        const char * usage = "setDatasetF32(split, features: Float32Array, labels: Uint8Array | null, targets: Float32Array | null, count, sampleSize, targetSize)";
        if (info.Length() < 7 || !info[0].IsNumber() || !info[1].IsTypedArray() || !info[4].IsNumber() || !info[5].IsNumber() || !info[6].IsNumber())
            throw_arg(env, usage);
        auto optional = [&](const Napi::Value & v, napi_typedarray_type want, const char * what) -> Napi::TypedArray {
            if (v.IsUndefined() || v.IsNull()) return Napi::TypedArray();
            if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != want) throw_arg(env, std::string("setDatasetF32: ") + what);
            return v.As<Napi::TypedArray>();
        };
        int split = info[0].As<Napi::Number>().Int32Value();
        auto features = info[1].As<Napi::TypedArray>();
        if (features.TypedArrayType() != napi_float32_array) throw_arg(env, "setDatasetF32: features must be a Float32Array");
        Napi::TypedArray labels = optional(info[2], napi_uint8_array, "labels must be a Uint8Array or null");
        Napi::TypedArray targets = optional(info[3], napi_float32_array, "targets must be a Float32Array or null");
        int64_t count = info[4].As<Napi::Number>().Int64Value();
        int64_t sample = info[5].As<Napi::Number>().Int64Value();
        int64_t target_size = info[6].As<Napi::Number>().Int64Value();
        if (count < 0 || sample <= 0 || target_size < 0 || (int64_t)features.ElementLength() < count * sample ||
            (!labels.IsEmpty() && (int64_t)labels.ElementLength() < count) ||
            (!targets.IsEmpty() && (int64_t)targets.ElementLength() < count * target_size))
            throw_arg(env, "setDatasetF32: arrays are shorter than count x sampleSize (features), count (labels) or count x targetSize (targets)");
        auto data = [](const Napi::TypedArray & a) -> const uint8_t * {
            return a.IsEmpty() ? nullptr : static_cast<const uint8_t *>(a.ArrayBuffer().Data()) + a.ByteOffset();
        };
        nl::Status st = session_->set_dataset_f32(split == 1 ? nl::SPLIT_TEST : nl::SPLIT_TRAIN, reinterpret_cast<const float *>(data(features)), data(labels),
                                                  reinterpret_cast<const float *>(data(targets)), count, sample, targets.IsEmpty() ? 0 : target_size);
        if (!st.ok()) throw_status(env, st);
        hold_dataset(split, {features, labels, targets});
        return env.Undefined();
    }

    // runEpoch(split, { count, batch, dropLast, train, order?: Int32Array, eventIntervalMs?, lr?, momentum?,
    //                   startBatch?, predictions?: boolean, probabilities?: boolean, outputs?: boolean, losses?: boolean }, onProgress?)
    //   -> Promise<{ lossSum, batches, samples, correct, nextBatch, seconds, stopped,
    //                predictions?: Int32Array [count], probabilities?: Float32Array [count * classes],
    //                outputs?: Float32Array [count * outputs], losses?: Float32Array [batches run] }>
    Napi::Value run_epoch(const Napi::CallbackInfo & info) {
        Napi::Env env = info.Env();
        check_idle(env);
        if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsObject()) throw_arg(env, "runEpoch(split, options, onProgress?)");
        int split = info[0].As<Napi::Number>().Int32Value();
        auto o = info[1].As<Napi::Object>();
        nl::EpochOptions opts;
        opts.count = o.Get("count").ToNumber().Int64Value();
        opts.batch = o.Get("batch").ToNumber().Int32Value();
        opts.drop_last = o.Get("dropLast").ToBoolean().Value();
        opts.train = o.Get("train").ToBoolean().Value();
        Napi::Value sb = o.Get("startBatch");
        if (!sb.IsUndefined() && !sb.IsNull()) {
            if (!sb.IsNumber()) throw_arg(env, "runEpoch: startBatch must be a number");
            double v = sb.As<Napi::Number>().DoubleValue();
            if (!(v >= 0) || v != std::floor(v) || v > 9007199254740991.0) throw_arg(env, "runEpoch: startBatch must be a non-negative integer");
            opts.start_batch = (int64_t)v;
        }
        bool want_predictions = o.Get("predictions").ToBoolean().Value();
        bool want_probabilities = o.Get("probabilities").ToBoolean().Value();
        bool want_outputs = o.Get("outputs").ToBoolean().Value();
        bool want_losses = o.Get("losses").ToBoolean().Value();
        if (opts.count < 0) throw_arg(env, "runEpoch: count must be non-negative");
        Napi::Value iv = o.Get("eventIntervalMs");
        if (iv.IsNumber()) opts.event_interval_s = iv.As<Napi::Number>().DoubleValue() / 1000.0;
        std::vector<int32_t> order;
        Napi::Value ov = o.Get("order");
        if (!ov.IsUndefined() && !ov.IsNull()) {
            if (!ov.IsTypedArray() || ov.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
                throw_arg(env, "runEpoch: order must be an Int32Array");
            auto arr = ov.As<Napi::Int32Array>();
            if ((int64_t)arr.ElementLength() < opts.count) throw_arg(env, "runEpoch: order is shorter than count");
            js_guard(env, "copying the sample order", [&] { order.assign(arr.Data(), arr.Data() + opts.count); });
        }
        // Per-batch hyper-parameter tables (schedulers): one finite, non-negative value per batch.
        int64_t batches = opts.batch > 0 ? (opts.drop_last ? opts.count / opts.batch : (opts.count + opts.batch - 1) / opts.batch) : 0;
        auto table = [&](const char * key) {
            std::vector<float> out;
            Napi::Value v = o.Get(key);
            if (v.IsUndefined() || v.IsNull()) return out;
            if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
                throw_arg(env, std::string("runEpoch: ") + key + " must be a Float32Array (one value per batch)");
            auto arr = v.As<Napi::Float32Array>();
            if ((int64_t)arr.ElementLength() < batches) throw_arg(env, std::string("runEpoch: ") + key + " has fewer entries than the epoch has batches");
            for (size_t k = 0; k < arr.ElementLength(); k++)
                if (!(arr[k] >= 0.f) || !std::isfinite(arr[k])) throw_arg(env, std::string("runEpoch: ") + key + " values must be finite and non-negative");
            js_guard(env, "copying a per-batch table", [&] { out.assign(arr.Data(), arr.Data() + arr.ElementLength()); });
            return out;
        };
        std::vector<float> lr = table("lr");
        std::vector<float> momentum = table("momentum");
        Napi::Function progress;
        if (info.Length() > 2 && info[2].IsFunction()) progress = info[2].As<Napi::Function>();
        // Output arrays, sized here (before any worker exists) and owned by the worker; the core
        // refuses predictions in training epochs.
        const nl::Program & prog = session_->program();
        int classes = prog.logits >= 0 ? (int)prog.buffers[prog.logits].elems : 0;
        std::vector<int32_t> predictions;
        std::vector<float> probabilities, outputs, losses;
        try {
            if (want_predictions) predictions.assign((size_t)opts.count, 0);
            if (want_probabilities) probabilities.assign((size_t)opts.count * (size_t)classes, 0.f);
            if (want_outputs) outputs.assign((size_t)opts.count * (size_t)classes, 0.f);
            if (want_losses) losses.assign((size_t)std::max<int64_t>(batches, 0), 0.f);
        } catch (const std::bad_alloc &) {
            const uint64_t bytes = ((uint64_t)opts.count * (want_predictions + (want_probabilities + want_outputs) * (uint64_t)classes) +
                                    (uint64_t)std::max<int64_t>(batches, 0) * want_losses) * 4;
            throw make_error(env, NL_STATUS_OUT_OF_MEMORY, "could not allocate " + nl::format_bytes(bytes) + " for the epoch's outputs (predictions, " +
                                                               "probabilities or losses of " + std::to_string(opts.count) + " samples)");
        }
        auto * w = js_guard(env, "starting an epoch", [&] {
            return new EpochWorker(env, this, Value(), split == 1 ? nl::SPLIT_TEST : nl::SPLIT_TRAIN, opts, std::move(order), std::move(lr),
                                   std::move(momentum), progress);
        });
        w->predictions = std::move(predictions);
        w->probabilities = std::move(probabilities);
        w->outputs = std::move(outputs);
        w->losses = std::move(losses);
        w->classes = classes;
        w->bind_outputs();
        busy = true;
        session_->clear_stop();   // a stop() from now on applies to this epoch, even before it starts running
        Napi::Promise p = w->promise();
        w->Queue();
        return p;
    }

    // runStep(rows, train, update = true, lr?): synchronous single step on the buffers' current contents.
    Napi::Value run_step(const Napi::CallbackInfo & info) {
        Napi::Env env = info.Env();
        check_idle(env);
        if (info.Length() < 2 || !info[0].IsNumber()) throw_arg(env, "runStep(rows: number, train: boolean, update?: boolean, lr?: number)");
        bool update = info.Length() < 3 || info[2].IsUndefined() || info[2].ToBoolean().Value();
        float lr = info.Length() > 3 && info[3].IsNumber() ? info[3].As<Napi::Number>().FloatValue() : -1.f;
        nl::Status st = session_->run_step(info[0].As<Napi::Number>().Int32Value(), info[1].ToBoolean().Value(), update, lr);
        if (!st.ok()) throw_status(env, st);
        return env.Undefined();
    }

    Napi::Value stop(const Napi::CallbackInfo & info) {
        if (session_) session_->request_stop();   // a closed session has nothing to stop
        return info.Env().Undefined();
    }
    Napi::Value get_steps(const Napi::CallbackInfo & info) { return Napi::Number::New(info.Env(), (double)open_session(info.Env()).steps()); }
    void set_steps(const Napi::CallbackInfo & info, const Napi::Value & v) {
        check_idle(info.Env());
        session_->set_steps(v.ToNumber().Int64Value());
    }
    Napi::Value get_threads(const Napi::CallbackInfo & info) { return Napi::Number::New(info.Env(), open_session(info.Env()).threads()); }
    // the backend it runs on: "CPU", or the CUDA backend's name for its device
    Napi::Value get_device(const Napi::CallbackInfo & info) { return Napi::String::New(info.Env(), open_session(info.Env()).backend_name()); }
    Napi::Value get_seed(const Napi::CallbackInfo & info) { return Napi::Number::New(info.Env(), (double)open_session(info.Env()).seed()); }
    void set_seed(const Napi::CallbackInfo & info, const Napi::Value & v) {
        check_idle(info.Env());
        double d = v.ToNumber().DoubleValue();
        if (!(d >= 0) || d > 9007199254740991.0) throw_arg(info.Env(), "seed must be a non-negative integer");
        session_->set_seed((uint64_t)d);
    }

    // Declared before session_, so destroyed after it: the arrays outlive the core session reading them.
    Napi::ObjectReference data_refs_[2][3];
    std::unique_ptr<nl::Session> session_;
};

EpochWorker::EpochWorker(Napi::Env env, SessionWrap * owner, Napi::Object self, nl::Split split, nl::EpochOptions opts,
                         std::vector<int32_t> order, std::vector<float> lr, std::vector<float> momentum, Napi::Function progress)
    : Napi::AsyncWorker(env, "netloom.epoch"), owner_(owner), self_(Napi::Persistent(self)), deferred_(Napi::Promise::Deferred::New(env)),
      split_(split), opts_(opts), order_(std::move(order)), lr_(std::move(lr)), momentum_(std::move(momentum)) {
    opts_.order = order_.empty() ? nullptr : order_.data();
    opts_.lr = lr_.empty() ? nullptr : lr_.data();
    opts_.momentum = momentum_.empty() ? nullptr : momentum_.data();
    if (!progress.IsEmpty()) {
        has_progress_ = true;
        tsfn_ = Napi::ThreadSafeFunction::New(env, progress, "netloom.progress", 0, 1);
    }
}

EpochWorker::~EpochWorker() {}

void EpochWorker::on_progress(void * ctx, const nl::ProgressEvent & ev) {
    auto * self = static_cast<EpochWorker *>(ctx);
    // On the epoch's thread: a progress event that cannot be allocated is dropped, not an error.
    auto * msg = new (std::nothrow) ProgressMsg{ev};
    if (!msg) return;
    napi_status s = self->tsfn_.NonBlockingCall(msg, [](Napi::Env env, Napi::Function fn, ProgressMsg * m) {
        std::unique_ptr<ProgressMsg> own(m);
        if (!env || fn.IsEmpty()) return;
        Napi::Object o = Napi::Object::New(env);
        o.Set("batch", (double)m->ev.batch);
        o.Set("batches", (double)m->ev.batches);
        o.Set("samples", (double)m->ev.samples);
        o.Set("loss", m->ev.loss);
        o.Set("meanLoss", m->ev.mean_loss);
        o.Set("samplesPerSec", m->ev.samples_per_s);
        o.Set("elapsed", m->ev.elapsed_s);
        // A throwing listener must not take the process down; the epoch goes on.
        try {
            fn.Call({o});
        } catch (const Napi::Error &) {
        }
    });
    if (s != napi_ok) delete msg;
}

void EpochWorker::Execute() {
    try {
        // In an interactive host the epoch runs on a background-priority runner (with the pool's
        // workers), so training never starves the host's event loop; this libuv thread just waits.
        nl::run_epoch_work([&] {
            try {
                status_ = owner_->session()->run_epoch(split_, opts_, has_progress_ ? &EpochWorker::on_progress : nullptr, this, result_);
            } catch (const std::exception & e) {
                status_ = nl::Status::error(NL_STATUS_INTERNAL, std::string("native error: ") + e.what());
            } catch (...) {
                status_ = nl::Status::error(NL_STATUS_INTERNAL, "unknown native error");
            }
        });
    } catch (const std::exception & e) {
        status_ = nl::Status::error(NL_STATUS_INTERNAL, std::string("native error: ") + e.what());
    } catch (...) {
        status_ = nl::Status::error(NL_STATUS_INTERNAL, "unknown native error");
    }
}

void EpochWorker::finish() {
    owner_->busy = false;
    if (has_progress_) tsfn_.Release();
}

void EpochWorker::OnOK() {
    Napi::Env env = Env();
    finish();
    if (!status_.ok()) {
        deferred_.Reject(make_error(env, status_.code, status_.message).Value());
        return;
    }
    // Runs from libuv, with no JS caller: an exception here would be uncaught and end the process,
    // so a failure to allocate the results rejects the promise instead.
    try {
        resolve(env);
    } catch (const Napi::Error & e) {
        deferred_.Reject(e.Value());
    } catch (...) {
        const nl::Status st = nl::current_exception_status("returning the epoch's results");
        deferred_.Reject(make_error(env, st.code, st.message).Value());
    }
}

void EpochWorker::resolve(Napi::Env env) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("lossSum", result_.loss_sum);
    o.Set("batches", (double)result_.batches);
    o.Set("samples", (double)result_.samples);
    o.Set("correct", (double)result_.correct);
    o.Set("nextBatch", (double)result_.next_batch);
    o.Set("seconds", result_.seconds);
    o.Set("stopped", result_.stopped);
    auto copy_out = [&](const void * data, size_t bytes) {
        auto ab = new_array_buffer(env, bytes, "the epoch's outputs");
        if (bytes) std::memcpy(ab.Data(), data, bytes);
        return ab;
    };
    if (opts_.predictions) o.Set("predictions", Napi::Int32Array::New(env, predictions.size(), copy_out(predictions.data(), predictions.size() * 4), 0));
    if (opts_.probabilities)
        o.Set("probabilities", Napi::Float32Array::New(env, probabilities.size(), copy_out(probabilities.data(), probabilities.size() * 4), 0));
    if (opts_.outputs) o.Set("outputs", Napi::Float32Array::New(env, outputs.size(), copy_out(outputs.data(), outputs.size() * 4), 0));
    if (opts_.batch_losses) {
        // the losses of the batches this call ran: [start_batch, next_batch)
        size_t from = (size_t)opts_.start_batch, n = (size_t)(result_.next_batch - opts_.start_batch);
        o.Set("losses", Napi::Float32Array::New(env, n, copy_out(losses.data() + from, n * 4), 0));
    }
    deferred_.Resolve(o);
}

void EpochWorker::OnError(const Napi::Error & e) {
    finish();
    deferred_.Reject(e.Value());
}

Napi::Value op_names(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    Napi::Array a = Napi::Array::New(env, nl::op_count());
    for (int i = 0; i < nl::op_count(); i++) a.Set(i, nl::op_info((nl::Op)i).name);
    return a;
}

// [{name, buffers, ints, floats}] as the core's op table holds them (counted from ops.def's name lists)
Napi::Value op_table(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    Napi::Array a = Napi::Array::New(env, nl::op_count());
    for (int i = 0; i < nl::op_count(); i++) {
        const nl::OpInfo & op = nl::op_info((nl::Op)i);
        Napi::Object o = Napi::Object::New(env);
        o.Set("name", op.name);
        o.Set("buffers", op.n_buffers);
        o.Set("ints", op.n_ints);
        o.Set("floats", op.n_floats);
        a.Set(i, o);
    }
    return a;
}

// What the CUDA probe found (probed once per process; it never throws, a missing or broken driver or
// library is a reason): { available, reason (null when available), library, devices: [...] }.
Napi::Object cuda_info(Napi::Env env) {
    const nl::CudaProbe & p = nl::cuda_probe();
    Napi::Object o = Napi::Object::New(env);
    Napi::Array devices = Napi::Array::New(env, p.devices.size());
    for (size_t k = 0; k < p.devices.size(); k++) {
        const nl::CudaDeviceInfo & d = p.devices[k];
        Napi::Object g = Napi::Object::New(env);
        g.Set("index", d.index);
        g.Set("name", d.name);
        g.Set("totalBytes", (double)d.total_bytes);
        g.Set("freeBytes", (double)d.free_bytes);
        g.Set("computeCapability", std::to_string(d.cc_major) + "." + std::to_string(d.cc_minor));
        g.Set("smCount", d.sm_count);
        devices.Set((uint32_t)k, g);
    }
    const bool available = !p.devices.empty();
    o.Set("available", available);
    o.Set("reason", available ? env.Null() : Napi::String::New(env, p.reason.empty() ? "no CUDA device found" : p.reason));
    o.Set("library", p.library);
    o.Set("devices", devices);
    return o;
}

Napi::Value device_info(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("cpuModel", nl::cpu_model_name());
    o.Set("simd", nl::simd_name(nl::simd_detect()));
    o.Set("hardwareThreads", nl::hardware_threads());
    o.Set("programVersion", nl::PROGRAM_VERSION);
    o.Set("cuda", js_guard(env, "probing for a CUDA GPU", [&] { return cuda_info(env); }));
    return o;
}

Napi::Value set_background_priority(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (info.Length() != 1 || !info[0].IsBoolean()) {
        Napi::TypeError::New(env, "setBackgroundPriority(on: boolean)").ThrowAsJavaScriptException();
        return env.Undefined();
    }
    nl::set_background_priority(info[0].As<Napi::Boolean>().Value());
    return env.Undefined();
}

Napi::Object init(Napi::Env env, Napi::Object exports) {
    exports.Set("Session", SessionWrap::define(env));
    exports.Set("liveSessions", Napi::Function::New(env, [](const Napi::CallbackInfo & info) {
        return Napi::Number::New(info.Env(), (double)live_sessions.load());
    }));
    exports.Set("opNames", Napi::Function::New(env, op_names));
    exports.Set("opTable", Napi::Function::New(env, op_table));
    exports.Set("deviceInfo", Napi::Function::New(env, device_info));
    exports.Set("setBackgroundPriority", Napi::Function::New(env, set_background_priority));
    return exports;
}

} // namespace

NODE_API_MODULE(netloom, init)
