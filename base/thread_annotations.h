// Thread-safety annotations for clang's -Wthread-safety analysis (as
// leveldb's port/thread_annotations.h and abseil's base/thread_annotations.h).
// Other compilers see empty macros. The lock types they apply to are in
// base/mutex.h; tests/thread_safety_check.py builds the tree with the
// analysis turned into errors.
//
//   GUARDED_BY(mu)     a field read or written only with mu held
//   REQUIRES(mu)       a function called with mu held (exclusively)
//   REQUIRES_SHARED(mu) ... held at least shared
//   EXCLUDES(mu)       a function that takes mu itself (caller must not hold it)
//   ACQUIRE / RELEASE  functions that lock / unlock
#pragma once

#if defined(__clang__)
#define HT_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define HT_THREAD_ANNOTATION(x)
#endif

#define CAPABILITY(x) HT_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY HT_THREAD_ANNOTATION(scoped_lockable)
// These five are also defined by abseil's legacy
// absl/base/internal/thread_annotations.h, which gRPC's headers include; they
// are spelled exactly as there so that either order of inclusion is a valid,
// identical redefinition.
#if defined(__clang__)
#define THREAD_ANNOTATION_ATTRIBUTE__(x) __attribute__((x))
#else
#define THREAD_ANNOTATION_ATTRIBUTE__(x)
#endif
#define GUARDED_BY(x) THREAD_ANNOTATION_ATTRIBUTE__(guarded_by(x))
#define PT_GUARDED_BY(x) THREAD_ANNOTATION_ATTRIBUTE__(pt_guarded_by(x))
#define ACQUIRED_AFTER(...) THREAD_ANNOTATION_ATTRIBUTE__(acquired_after(__VA_ARGS__))
#define ACQUIRED_BEFORE(...) THREAD_ANNOTATION_ATTRIBUTE__(acquired_before(__VA_ARGS__))
#define NO_THREAD_SAFETY_ANALYSIS THREAD_ANNOTATION_ATTRIBUTE__(no_thread_safety_analysis)

#define REQUIRES(...) HT_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) HT_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))
#define ACQUIRE(...) HT_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define ACQUIRE_SHARED(...) HT_THREAD_ANNOTATION(acquire_shared_capability(__VA_ARGS__))
#define RELEASE(...) HT_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define RELEASE_SHARED(...) HT_THREAD_ANNOTATION(release_shared_capability(__VA_ARGS__))
#define RELEASE_GENERIC(...) HT_THREAD_ANNOTATION(release_generic_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) HT_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
#define EXCLUDES(...) HT_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define ASSERT_CAPABILITY(x) HT_THREAD_ANNOTATION(assert_capability(x))
#define RETURN_CAPABILITY(x) HT_THREAD_ANNOTATION(lock_returned(x))
