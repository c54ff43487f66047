package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"github.com/radbridge/radbridge/api"
	"github.com/radbridge/radbridge/auth"
	"github.com/radbridge/radbridge/cdshooks"
	"github.com/radbridge/radbridge/delivery"
	"github.com/radbridge/radbridge/engine"
	"github.com/radbridge/radbridge/fhir"
	"github.com/radbridge/radbridge/fhirserver"
	"github.com/radbridge/radbridge/hl7/mllp"
	"github.com/radbridge/radbridge/payer"
	"github.com/radbridge/radbridge/store/bolt"
)

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "YAML configuration file (every field optional)")
	dataDir := fs.String("data", "", "data directory (default ./data)")
	mllpAddr := fs.String("mllp-addr", "", "MLLP listen address (default :2575)")
	httpAddr := fs.String("http-addr", "", "HTTP listen address (default 127.0.0.1:8080)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: radbridge serve [--config FILE] [--data DIR] [--mllp-addr ADDR] [--http-addr ADDR]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return usageExit(err)
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		fmt.Fprintf(stderr, "radbridge serve: config: %v\n", err)
		return 2
	}
	for flagValue, field := range map[*string]*string{dataDir: &cfg.DataDir, mllpAddr: &cfg.MLLP.Addr, httpAddr: &cfg.HTTP.Addr} {
		if *flagValue != "" {
			*field = *flagValue
		}
	}
	cfg.defaults()
	if err := cfg.validate(); err != nil {
		fmt.Fprintf(stderr, "radbridge serve: config: %v\n", err)
		return 2
	}
	log := newLogger(stderr, cfg)
	relaxGC()
	limitMemory(cfg.MemoryLimit)
	addSyncProcs()
	if err := serve(ctx, cfg, log); err != nil {
		log.Error("radbridge stopped", slog.String("err", err.Error()))
		return 1
	}
	return 0
}

func newLogger(w io.Writer, cfg *config) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.Log.Level))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// errGrace is the cause of a shutdown that ran out of time.
var errGrace = errors.New("shutdown grace period over")

// serve runs the engine until ctx ends, then shuts down gracefully: listeners close,
// in-flight messages finish and are acknowledged, the store is closed last.
func serve(ctx context.Context, cfg *config, log *slog.Logger) error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := engine.NewMetrics(reg)

	db, err := bolt.Open(bolt.Config{Dir: cfg.DataDir, FlushInterval: cfg.Store.FlushInterval,
		Observe: metrics.ObserveCommit, ObserveFlush: metrics.ObserveFlush})
	if err != nil {
		return err
	}
	defer db.Close()
	checker, err := cfg.checker()
	if err != nil {
		return err
	}
	routes, dcfg, err := cfg.delivery()
	if err != nil {
		return err
	}
	senders, err := cfg.senders()
	if err != nil {
		return err
	}
	subscriptions, err := cfg.FHIR.Subscriptions.policy()
	if err != nil {
		return err
	}
	eng, err := engine.New(engine.Config{ProcessingIDs: cfg.ProcessingIDs, Location: time.Local, Routes: routes, Senders: senders,
		Subscriptions: subscriptions, MaxOrdersPerMessage: cfg.MaxOrdersPerMessage}, db, checker, log, metrics)
	if err != nil {
		return err
	}
	// The payer workflow: PAS requests go out through the outbox, one destination per
	// payer profile with pas.
	payers, err := payer.New(payer.Config{Profiles: cfg.PriorAuth.Payers}, db, checker, payer.Deps{Log: log})
	if err != nil {
		return fmt.Errorf("prior_auth: %w", err)
	}
	eng.SetAuthorizer(payers)
	dcfg.Destinations = append(dcfg.Destinations, payers.Destinations()...)
	worker, err := delivery.New(dcfg, db, log, delivery.Deps{Senders: payers.Senders()})
	if err != nil {
		return err
	}
	eng.SetDeliverer(worker)
	payers.SetNotifier(worker)
	cdsCfg, err := cfg.cdsHooks()
	if err != nil {
		return err
	}
	hooks, err := cdshooks.New(cdsCfg, eng, cdshooks.Deps{Log: log})
	if err != nil {
		return err
	}
	if err := eng.Resubscribe(ctx); err != nil {
		return fmt.Errorf("subscriptions: %w", err)
	}
	reg.MustRegister(worker.Collector(), payers.Collector(ctx))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "radbridge_authorizations_overdue",
		Help: "Orders awaiting prior authorization past their due-by time.",
	}, func() float64 { return float64(eng.OverdueCount(ctx)) }))

	var tlsConfig, httpTLS *tls.Config
	if cfg.MLLP.TLS.Cert != "" {
		if tlsConfig, err = mllp.TLSConfigFromFiles(cfg.MLLP.TLS.Cert, cfg.MLLP.TLS.Key, cfg.MLLP.TLS.ClientCA); err != nil {
			return fmt.Errorf("mllp.tls: %w", err)
		}
	}
	if cfg.HTTP.TLS.Cert != "" {
		if httpTLS, err = serverTLSConfig(cfg.HTTP.TLS.Cert, cfg.HTTP.TLS.Key, cfg.HTTP.TLS.ClientCA); err != nil {
			return fmt.Errorf("http.tls: %w", err)
		}
	}
	ml, err := net.Listen("tcp", cfg.MLLP.Addr)
	if err != nil {
		return fmt.Errorf("mllp: %w", err)
	}
	hl, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		ml.Close()
		return fmt.Errorf("http: %w", err)
	}

	ms := &mllp.Server{Handler: engine.MLLPHandler{Engine: eng}, TLSConfig: tlsConfig, MaxMessageSize: cfg.MLLP.MaxMessageSize,
		MaxConns: max(cfg.MLLP.MaxConns, 0), MaxConnsPerAddr: max(cfg.MLLP.MaxConnsPerAddr, 0), FrameBudget: cfg.MLLP.FrameBudget,
		IdleTimeout: cfg.MLLP.IdleTimeout, ReadTimeout: cfg.MLLP.ReadTimeout, Logger: log}
	reg.MustRegister(mllpCollector{stats: ms.Stats})
	fhirHandler, err := fhir.NewHandler(fhir.Config{BaseURL: cfg.HTTP.BaseURL, SoftwareVersion: version}, fhirserver.New(eng, db), log)
	if err != nil {
		ml.Close()
		hl.Close()
		return fmt.Errorf("fhir: %w", err)
	}
	apiHandler, err := api.New(api.Config{Engine: eng, Store: db, Deliverer: worker, Preauth: checker, Authorizations: payers})
	if err != nil {
		ml.Close()
		hl.Close()
		return err
	}
	ac, err := cfg.authConfig()
	if err != nil {
		ml.Close()
		hl.Close()
		return err
	}
	ac.ResourceTypes, ac.Refuse, ac.Log = fhirHandler.ResourceTypes(), authRefusal, log
	authn, err := auth.New(ac)
	if err != nil {
		ml.Close()
		hl.Close()
		return err
	}
	var ready atomic.Bool
	hs := &http.Server{
		Handler: httpHandler(authn, httpRoutes(httpDeps{api: apiHandler, fhir: fhirHandler, auth: authn, reg: reg, ready: &ready, store: db,
			more:  []func(*mux.Router){hooks.Routes, payerRoutes(payers)},
			limit: limitLargeBodies(cfg.HTTP.LargeBody, cfg.HTTP.MaxConcurrentLargeBodies, reg, log)})),
		TLSConfig:         httpTLS,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	g, gctx := errgroup.WithContext(ctx)
	// The delivery worker stops after the listeners, once nothing can enqueue.
	deliverCtx, stopDelivery := context.WithCancel(context.WithoutCancel(ctx))
	defer stopDelivery()
	g.Go(func() error { return worker.Run(deliverCtx) })
	g.Go(func() error { return payers.Run(deliverCtx) })
	g.Go(func() error {
		if err := ms.Serve(ml); !errors.Is(err, mllp.ErrServerClosed) {
			return fmt.Errorf("mllp: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		serveHTTP := hs.Serve
		if httpTLS != nil {
			serveHTTP = func(l net.Listener) error { return hs.ServeTLS(l, "", "") }
		}
		if err := serveHTTP(hl); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		ready.Store(false)
		log.Info("shutting down", slog.Duration("grace", cfg.ShutdownGrace))
		sctx, cancel := context.WithTimeoutCause(context.WithoutCancel(ctx), cfg.ShutdownGrace, errGrace)
		defer cancel()
		// MLLP first: its in-flight messages finish and get their ACKs.
		if err := ms.Shutdown(sctx); err != nil {
			log.Warn("mllp shutdown incomplete", slog.String("err", context.Cause(sctx).Error()))
			ms.Close()
		}
		if err := hs.Shutdown(sctx); err != nil {
			hs.Close()
		}
		stopDelivery()
		return nil
	})
	ready.Store(true)
	log.Info("radbridge started", slog.String("mllp_addr", ml.Addr().String()), slog.String("http_addr", hl.Addr().String()),
		slog.String("data_dir", cfg.DataDir), slog.Bool("mllp_tls", tlsConfig != nil), slog.Bool("http_tls", httpTLS != nil),
		slog.String("auth_mode", cfg.Auth.Mode))
	if err := g.Wait(); err != nil {
		return err
	}
	log.Info("radbridge stopped cleanly")
	return nil
}

// storeAdmin is what the HTTP surface needs of the store beyond the engine's use of
// it: whether it has failed, and a consistent copy of it.
type storeAdmin interface {
	Err() error
	Backup(ctx context.Context, w io.Writer) (int64, error)
}

// httpDeps is what the HTTP surface serves.
type httpDeps struct {
	api   *api.API
	fhir  *fhir.Handler
	auth  *auth.Authenticator
	limit func(http.Handler) http.Handler // applied after authentication; nil for none
	reg   *prometheus.Registry
	ready *atomic.Bool
	store storeAdmin
	// more register further routes, each declaring its scope (auth.Require, auth.Public):
	// the CDS Hooks service, the payers' notifications.
	more []func(*mux.Router)
}

// httpHandler is the HTTP surface as serve serves it: security headers on every
// answer, CORS for the origins authn allows, then the routes.
func httpHandler(authn *auth.Authenticator, routes *mux.Router) http.Handler {
	return auth.SecurityHeaders(authn.CORS(routes))
}

// httpRoutes routes the HTTP surface: the engine API, a backup of the store, FHIR,
// the token endpoint, health, readiness and metrics. Every route declares the scope
// it needs where it is registered here or in its package's Routes, and the auth
// middleware checks it before the handler runs (a route that declares none is
// refused); large bodies are limited after that, so that no body is read before the
// request is authenticated. Both health and readiness fail once the store has failed,
// as only a restart brings it back.
//
//	route                                     needs
//	GET  /healthz, /readyz                    nothing (public)
//	GET  /fhir/metadata                       nothing (public)
//	GET  /.well-known/smart-configuration     nothing (public)
//	POST /auth/token                          nothing (public; a client assertion)
//	GET  /api/messages[/{id}], /api/orders[/{id}],
//	     /api/outbox, /api/preauth            radbridge/api.read (+ phi.read unmasks)
//	POST /api/messages/{id}/reprocess,
//	     /api/orders/{id}/authorization,
//	     /api/outbox/{id}/retry               radbridge/api.operate
//	GET  /api/backup                          radbridge/api.admin
//	GET  /metrics                             radbridge/metrics.read
//	/fhir/{type}...                           system/{type}.{c|r|u|d|s} by interaction
//	POST /fhir                                a system/ scope, then each entry's
//	                                          own, checked by the Bundle handler
func httpRoutes(d httpDeps) *mux.Router {
	st := d.store
	r := mux.NewRouter()
	d.api.Routes(r)
	for _, register := range d.more {
		register(r)
	}
	r.Handle("/api/backup", auth.Require(auth.ScopeAPIAdmin, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		backup(w, req, st)
	}))).Methods(http.MethodGet)
	d.fhir.Routes(r)
	d.auth.Routes(r)
	r.Handle("/metrics", auth.Require(auth.ScopeMetricsRead, promhttp.HandlerFor(d.reg, promhttp.HandlerOpts{}))).Methods(http.MethodGet)
	failed := func(w http.ResponseWriter) bool {
		if err := st.Err(); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "store failed: "+err.Error()+"\n")
			return true
		}
		return false
	}
	r.Handle("/healthz", auth.Public(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if failed(w) {
			return
		}
		io.WriteString(w, "ok\n")
	}))).Methods(http.MethodGet)
	r.Handle("/readyz", auth.Public(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if failed(w) {
			return
		}
		if !d.ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "not ready\n")
			return
		}
		io.WriteString(w, "ready\n")
	}))).Methods(http.MethodGet)
	r.Use(d.auth.Middleware)
	if d.limit != nil {
		r.Use(d.limit)
	}
	return r
}

// backup streams a consistent copy of the database file. The server's write timeout
// does not apply: a large database takes longer than a request. A failure before the
// first byte is a 503; after it, the response is cut off so that the client cannot
// take a partial copy for a whole one.
func backup(w http.ResponseWriter, r *http.Request, st storeAdmin) {
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+bolt.FileName+`"`)
	cw := &countingWriter{w: w}
	if _, err := st.Backup(r.Context(), cw); err != nil {
		if cw.n == 0 {
			w.Header().Del("Content-Disposition")
			http.Error(w, "backup failed: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		panic(http.ErrAbortHandler)
	}
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// relaxGC collects garbage less often than Go's default unless the operator set GOGC.
// The live heap is small and the message path allocates briskly: with GOGC=100 the
// collector would run every few hundred messages.
func relaxGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}

// limitMemory sets the runtime's soft memory limit to limit bytes (see
// config.MemoryLimit) unless the operator set GOMEMLIMIT or limit is not positive.
func limitMemory(limit int64) {
	if limit > 0 && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(limit)
	}
}

// syncProcs is how many goroutines of the store block in file system calls at once:
// the log writer in its fdatasync and the committer in a flush.
const syncProcs = 2

// addSyncProcs runs two more goroutines at a time than Go's default (one per CPU)
// unless the operator set GOMAXPROCS. A goroutine in a blocking system call keeps its
// P until the runtime notices, tens of microseconds later, and the store's fdatasyncs
// come thousands of times a second under load: with the extra Ps the other goroutines
// go on meanwhile. Measured on 2 CPUs: +9% MLLP messages/s, and FHIR create p99 halved.
func addSyncProcs() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) + syncProcs)
	}
}

// payerRoutes registers the payers' notification endpoint (payer.NotifyPath).
func payerRoutes(p *payer.Service) func(*mux.Router) {
	return func(r *mux.Router) {
		r.Handle(payer.NotifyPath, auth.Require(auth.ScopeAPIOperate, p.NotifyHandler())).Methods(http.MethodPost)
	}
}
