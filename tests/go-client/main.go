// Command goclient calls the dubbo-recsys gRPC shim the way a Go service would:
// health checking, server reflection, the seed's RecommenderInferService and our
// dubborecsys.v1.RecommendService, with code generated from interfaces/proto/.
//
// It prints one JSON object per line, so a test (tests/grpc_shim/test_go_client.py)
// can assert on what a real non-Python client saw:
//
//	{"call":"health","service":"","status":"SERVING"}
//	{"call":"reflection","services":[...]}
//	{"call":"seed","response":{...protojson...}}
//	{"call":"v1","response":{...protojson...}}
//
// An RPC that fails prints its status to stderr and the exit code is 1; bad flags
// exit 2. In-band errors (Code 400 and the like) are answers, printed as usual.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"dubborecsys/goclient/gen/recommendv1"
	"dubborecsys/goclient/gen/seedpb"
)

type options struct {
	addr       string
	user       string
	scene      string
	count      int
	candidates []string
	timeout    time.Duration
}

func parseFlags(args []string) (options, error) {
	var o options
	var candidates string
	fs := flag.NewFlagSet("goclient", flag.ContinueOnError)
	fs.StringVar(&o.addr, "addr", "", "shim address host:port (required)")
	fs.StringVar(&o.user, "user", "u1", "user id (seed UserId, v1 user_id)")
	fs.StringVar(&o.scene, "scene", "home", "scene (seed DataId, v1 scene)")
	fs.IntVar(&o.count, "count", 3, "how many items (seed RecallNum, v1 count)")
	fs.StringVar(&candidates, "candidates", "", "comma-separated items to rank (seed ModelType=rank)")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Second, "deadline for each call")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.addr == "" {
		return o, errors.New("-addr is required")
	}
	if candidates != "" {
		o.candidates = strings.Split(candidates, ",")
	}
	return o, nil
}

// printer writes one JSON line per call; a message is embedded as protojson.
type printer struct{ out io.Writer }

func (p printer) line(fields map[string]any) error {
	data, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(p.out, string(data))
	return err
}

func (p printer) message(call string, m proto.Message) error {
	data, err := protojson.MarshalOptions{EmitUnpopulated: true}.Marshal(m)
	if err != nil {
		return err
	}
	return p.line(map[string]any{"call": call, "response": json.RawMessage(data)})
}

func checkHealth(ctx context.Context, conn *grpc.ClientConn, p printer) error {
	client := healthpb.NewHealthClient(conn)
	names := []string{"", "RecommenderInferService", "dubborecsys.v1.RecommendService"}
	for _, name := range names {
		reply, err := client.Check(ctx, &healthpb.HealthCheckRequest{Service: name})
		if err != nil {
			return fmt.Errorf("health %q: %w", name, err)
		}
		if err := p.line(map[string]any{"call": "health", "service": name, "status": reply.GetStatus().String()}); err != nil {
			return err
		}
	}
	return nil
}

func listServices(ctx context.Context, conn *grpc.ClientConn, p printer) error {
	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		return fmt.Errorf("reflection: %w", err)
	}
	request := &reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{ListServices: ""},
	}
	if err := stream.Send(request); err != nil {
		return fmt.Errorf("reflection send: %w", err)
	}
	reply, err := stream.Recv()
	if err != nil {
		return fmt.Errorf("reflection recv: %w", err)
	}
	_ = stream.CloseSend()
	names := []string{}
	for _, service := range reply.GetListServicesResponse().GetService() {
		names = append(names, service.GetName())
	}
	return p.line(map[string]any{"call": "reflection", "services": names})
}

func callSeed(ctx context.Context, conn *grpc.ClientConn, o options, p printer) error {
	request := &seedpb.RecommendRequest{
		UserId:    o.user,
		DataId:    o.scene,
		GroupId:   "recsys",
		Namespace: "public",
		RecallNum: int32(o.count),
	}
	if len(o.candidates) > 0 {
		request.ModelType = "rank"
		request.ItemList = &seedpb.StringList{Value: o.candidates}
	}
	reply, err := seedpb.NewRecommenderInferServiceClient(conn).RecommenderInfer(ctx, request)
	if err != nil {
		return fmt.Errorf("seed RecommenderInfer: %w", err)
	}
	return p.message("seed", reply)
}

func callV1(ctx context.Context, conn *grpc.ClientConn, o options, p printer) error {
	request := &recommendv1.RecommendRequest{
		UserId:       o.user,
		Scene:        o.scene,
		Count:        int32(o.count),
		ExposureList: []string{"seen-1"},
		Context:      map[string]string{"device": "go-client"},
		CandidateIds: o.candidates,
	}
	reply, err := recommendv1.NewRecommendServiceClient(conn).Recommend(ctx, request)
	if err != nil {
		return fmt.Errorf("v1 Recommend: %w", err)
	}
	return p.message("v1", reply)
}

func run(o options, out io.Writer) error {
	conn, err := grpc.NewClient(o.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("connect %s: %w", o.addr, err)
	}
	defer conn.Close()
	p := printer{out: out}
	calls := []func(context.Context) error{
		func(ctx context.Context) error { return checkHealth(ctx, conn, p) },
		func(ctx context.Context) error { return listServices(ctx, conn, p) },
		func(ctx context.Context) error { return callSeed(ctx, conn, o, p) },
		func(ctx context.Context) error { return callV1(ctx, conn, o, p) },
	}
	for _, call := range calls {
		ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
		err := call(ctx)
		cancel()
		if err != nil {
			return err
		}
	}
	return nil
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "goclient:", err)
		os.Exit(2)
	}
	if err := run(o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "goclient:", err)
		os.Exit(1)
	}
}
