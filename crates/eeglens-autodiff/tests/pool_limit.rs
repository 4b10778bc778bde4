//! The buffer pool's byte bound (a process of its own: the pool is global).

use eeglens_autodiff::{pool, Tensor};

#[test]
fn the_pool_holds_no_more_than_its_limit_and_releases_oldest_first() {
    let n = pool::MIN_POOLED * 4;
    let bytes = n * 4;
    pool::clear();
    pool::set_limit(2 * bytes);
    let (a, b, c) = (pool::zeros(n), pool::zeros(n), pool::zeros(n));
    let (pa, pc) = (a.as_ptr(), c.as_ptr());
    pool::give(a);
    pool::give(b);
    assert_eq!(pool::cached_bytes(), 2 * bytes);
    // A third buffer pushes out the first one returned.
    pool::give(c);
    assert_eq!(pool::cached_bytes(), 2 * bytes);
    let mut held = Vec::new();
    for _ in 0..2 {
        held.push(pool::with_capacity(n));
    }
    assert!(held.iter().all(|v| v.as_ptr() != pa), "the oldest buffer was kept");
    assert!(held.iter().any(|v| v.as_ptr() == pc), "the newest buffer was not reused");
    assert_eq!(pool::cached_bytes(), 0);

    // A dropped tensor gives its buffer back; a zero limit keeps nothing.
    drop(Tensor::zeros(&[n]));
    assert_eq!(pool::cached_bytes(), bytes);
    pool::set_limit(0);
    assert_eq!(pool::cached_bytes(), 0);
    drop(Tensor::zeros(&[n]));
    assert_eq!(pool::cached_bytes(), 0);
    pool::set_limit(pool::DEFAULT_LIMIT);
    assert_eq!(pool::limit(), pool::DEFAULT_LIMIT);
}
